/**
 * The failure table: every stable failure type, whether it is permanent, and how an operator reads it.
 * Activities throw ApplicationFailure with one of these types (nonRetryable when permanent); the
 * activity proxies' retry policies, the child's quick-try loop and the CLI all derive from this table.
 * Workflows and tests branch on the type, never on message text.
 */
interface FailureKind {
  /** The ApplicationFailure `type`. */
  readonly type: string;
  /** Trying the same thing again cannot help: no activity retry, no further quick try or cycle. */
  readonly permanent: boolean;
  /** What it means for the operator, in ArubaOS `show upgrade status` words. */
  readonly wording: string;
}

const table = {
  /** Image header wrong: bad magic/checksum, wrong type for a model, version/build mismatch, missing file. */
  imageVerificationFailed: {
    type: 'ImageVerificationFailed',
    permanent: true,
    wording: 'Image not verified: fix the image or the upgrade-profile, then write memory',
  },
  /**
   * The image is unsigned, signed by a key the worker does not trust, or its signature does not match
   * its header — and the profile does not allow unsigned images. The message names the image and key id.
   */
  imageNotTrusted: {
    type: 'ImageNotTrusted',
    permanent: true,
    wording:
      'Image signature not trusted: sign it with a key the worker trusts (CIU_IMAGE_KEYS), or set upgrade-profile allow-unsigned',
  },
  /** Image server not reachable or timed out. */
  imageServerUnreachable: {
    type: 'ImageServerUnreachable',
    permanent: false,
    wording: 'Image server unreachable: retrying',
  },
  /** A login (image server or controller) was refused; permanent until the operator fixes credentials. */
  authenticationFailed: {
    type: 'AuthenticationFailed',
    permanent: true,
    wording: 'Login refused: check the credentials reference',
  },
  /** A host key did not match the pinned one. */
  hostKeyMismatch: {
    type: 'HostKeyMismatch',
    permanent: true,
    wording: 'Host key mismatch: check the pinned host key or known_hosts',
  },
  /** The credentials reference names nothing in the worker's store. */
  unknownCredentials: {
    type: 'UnknownCredentials',
    permanent: true,
    wording: "Unknown credentials reference: add it to the worker's credential store",
  },
  /** The worker's credential store does not let this credential go where the input asks (purpose, host, port, protocol, host key), or holds it in a form ciu refuses. */
  credentialsNotAllowed: {
    type: 'CredentialsNotAllowed',
    permanent: true,
    wording: "Credentials not allowed here: check the credential store's allow list",
  },
  /** The controller's download failed (transfer error, corrupt bytes, stalled); counts as one try. */
  downloadFailed: { type: 'DownloadFailed', permanent: false, wording: 'Download failed: retrying' },
  /** The controller's download made no byte progress for the stall time (default 60 s); counts as one try. */
  downloadStalled: {
    type: 'DownloadStalled',
    permanent: false,
    wording: 'Download stalled (no progress): retrying',
  },
  /** The image is not for this controller's platform. */
  imageTypeMismatch: {
    type: 'ImageTypeMismatch',
    permanent: true,
    wording: 'Image not supported on this platform',
  },
  /** Not enough flash on the controller. */
  flashFull: { type: 'FlashFull', permanent: true, wording: 'Not enough space on flash' },
  /** A pre-check before the download failed (model differs from the inventory, target partition is the booted one). */
  preCheckFailed: {
    type: 'PreCheckFailed',
    permanent: true,
    wording: 'Pre-check failed: fix the inventory or the upgrade-profile',
  },
  /** A one-off maintenance window (or the start time's) is over: nothing would ever happen. */
  maintenanceWindowOver: {
    type: 'MaintenanceWindowOver',
    permanent: true,
    wording: 'Maintenance window is over: set a new one, then write memory',
  },
  /** The controller's SSH did not answer. */
  controllerUnreachable: {
    type: 'ControllerUnreachable',
    permanent: false,
    wording: 'Controller unreachable: retrying',
  },
  /** The controller's CLI refused a command (`% Invalid input`, `Error: …`): sending it again cannot help. */
  commandRejected: {
    type: 'CommandRejected',
    permanent: true,
    wording: 'Command rejected by the controller CLI',
  },
  /** The controller answered a CLI command with something the driver cannot parse. */
  unexpectedControllerReply: {
    type: 'UnexpectedControllerReply',
    permanent: false,
    wording: 'Unexpected controller reply: retrying',
  },
  /** The image on the controller's partition failed its integrity check; counts as one try. */
  integrityCheckFailed: {
    type: 'IntegrityCheckFailed',
    permanent: false,
    wording: 'Image integrity check failed: retrying',
  },
  /** The controller did not come back after reload within the deadline; a reload is never repeated blindly. */
  rebootTimeout: {
    type: 'RebootTimeout',
    permanent: true,
    wording: 'Controller did not come back after reload',
  },
  /** The controller came back, but not on the expected version/build. */
  versionMismatchAfterReboot: {
    type: 'VersionMismatchAfterReboot',
    permanent: true,
    wording: 'Controller booted a different image',
  },
  /** After the reboot, the controller's own health view says it is not healthy (src/device/parsers.ts parseSwitchHealth). */
  postCheckFailed: {
    type: 'PostCheckFailed',
    permanent: true,
    wording: 'Post-check failed: the controller reports itself unhealthy',
  },
  /**
   * The worker was asked to stop while a local activity (the look before a download) ran in one of its
   * workflow tasks: the task fails, and the next worker runs it, look included. Not a try of the controller.
   */
  workerStopping: {
    type: 'WorkerStopping',
    permanent: false,
    wording: 'Worker stopping: another worker takes over',
  },
  /** A workflow or activity input failed validation. */
  invalidInput: { type: 'InvalidInput', permanent: true, wording: 'Invalid configuration value' },
  /** More targets or a larger config than one campaign holds (src/domain/campaign-limits.ts). */
  campaignTooLarge: {
    type: 'CampaignTooLarge',
    permanent: true,
    wording: 'Campaign too large: split it into smaller campaigns',
  },
} as const satisfies Record<string, FailureKind>;

type Table = typeof table;

/** Stable failure types by name, e.g. `failureTypes.flashFull === 'FlashFull'`. */
export const failureTypes = Object.fromEntries(
  Object.entries(table).map(([name, kind]) => [name, kind.type]),
) as { readonly [K in keyof Table]: Table[K]['type'] };

export type FailureType = Table[keyof Table]['type'];

const kinds: ReadonlyMap<string, FailureKind> = new Map(
  Object.values(table).map((kind) => [kind.type, kind]),
);

/** Every permanent failure type: the activity proxies' nonRetryableErrorTypes. */
export const permanentFailureTypes: readonly FailureType[] = Object.values(table)
  .filter((kind) => kind.permanent)
  .map((kind) => kind.type);

/** Whether a failure of this type is permanent; an unknown type is not (a retry may still help). */
export function isPermanentFailureType(type: string | undefined): boolean {
  return type !== undefined && kinds.get(type)?.permanent === true;
}

/** The operator's wording for a failure type, or undefined for a type outside the table. */
export function failureWording(type: string | undefined): string | undefined {
  return type === undefined ? undefined : kinds.get(type)?.wording;
}

/** ' — <wording>' to follow a failure's message on an operator's screen; empty for a type outside the table. */
export function operatorHint(type: string | undefined): string {
  const wording = failureWording(type);
  return wording ? ` — ${wording}` : '';
}

/** "Type: message" for status and logs. */
export function failureText(failure: { type?: string; message: string }): string {
  return failure.type ? `${failure.type}: ${failure.message}` : failure.message;
}
