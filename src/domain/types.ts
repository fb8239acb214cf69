import type { DialectName } from './dialects';
import type { ControllerModel } from './models';

import type { Protocol } from './rules';

export type { Protocol } from './rules';

/**
 * An SSH endpoint. Its host key is always checked: against `hostKey` when given ('SHA256:<base64>',
 * as `ssh-keygen -lf` prints), otherwise against the worker's known_hosts file (CIU_KNOWN_HOSTS).
 * An endpoint with neither is refused, never trusted on first use.
 */
export interface SshEndpoint {
  host: string;
  /** Default 22. */
  port: number;
  hostKey?: string;
}

/** An associated (local or standby) controller, as the master's inventory lists it. */
export interface Controller {
  /** IPv4 address: the controller's identity in targets, status and workflow IDs. */
  ip: string;
  model: ControllerModel;
  role: 'local' | 'standby';
  /** Where its CLI answers over SSH. */
  ssh: SshEndpoint;
  /** Name of the SSH login credentials in the worker's credential store (never the secret itself). */
  credentialsRef: string;
  /** CLI dialect (src/domain/dialects.ts). Default 'arubaos'. */
  dialect?: DialectName;
}

/** Where an image lives. */
export interface ImageServer {
  host: string;
  /** Default: the protocol's well-known port. */
  port?: number;
  /** Pinned host key for scp/sftp ('SHA256:<base64>'); without it, the worker's known_hosts decides. */
  hostKey?: string;
}

/** Profile entry for one controller model. */
export interface ModelImage {
  /** File name on the image server (no whitespace, `;`, newline or `..`). */
  imageFile: string;
  server: ImageServer;
  protocol: Protocol;
  /** Credential-store name for ftp/ftps/scp/sftp logins. */
  credentialsRef?: string;
  /** When given, the image header must carry exactly this version / build. */
  expectedVersion?: string;
  expectedBuild?: number;
}

/** The upgrade profile ("upgrade-profile" in ArubaOS). */
export interface UpgradeProfile {
  models: Partial<Record<ControllerModel, ModelImage>>;
  /** Reboot into the new image after a verified download. Default false. */
  autoboot: boolean;
  /** Controllers downloading at once across the campaign. Default 10. */
  maxDownloads: number;
  /** Wait between download cycles, as a duration ('15m', '30s'). Default '15m'. */
  retryInterval: string;
  /** Download attempts in quick succession per cycle. Default 3. */
  quickTries: number;
  /** Partition to write: 'non-boot' (default) or 0 / 1. */
  partition: 'non-boot' | 0 | 1;
  /** Pause between the quick tries of one cycle, as a duration. Default '5s'. */
  quickTryBackoff?: string;
}

/** A target: one IPv4 host, a CIDR subnet, or 'all' associated controllers. */
export type TargetSelector = string;

/** Everything "write memory" commits: the masterUpgrade workflow input. */
export interface CampaignConfig {
  inventory: Controller[];
  profile: UpgradeProfile;
  targets: TargetSelector[];
}
