/**
 * Per-controller states: machine words (search attribute CiuState, --json, queries) and the
 * labels operators know from ArubaOS `show upgrade status`.
 */
export const controllerStates = [
  'pending',
  'waiting-verification',
  'downloading',
  'waiting-retry',
  'downloaded-reboot-required',
  'rebooting',
  'upgraded',
  'up-to-date',
  'failed',
  'purged',
  'not-targeted',
] as const;

export type ControllerState = (typeof controllerStates)[number];

export const stateLabels: Record<ControllerState, string> = {
  pending: 'Pending',
  'waiting-verification': 'Waiting, image not verified',
  downloading: 'Downloading',
  'waiting-retry': 'Waiting for retry',
  'downloaded-reboot-required': 'Upgraded, reboot required',
  rebooting: 'Rebooting',
  upgraded: 'Upgraded',
  'up-to-date': 'Up-to-date',
  failed: 'Failed',
  purged: 'Purged',
  'not-targeted': 'Not part of target',
};

/** States a controller's child workflow ends in. */
export const finalStates: readonly ControllerState[] = [
  'downloaded-reboot-required',
  'upgraded',
  'up-to-date',
  'failed',
  'purged',
];

/** What the operator sees for one controller (status query, `show upgrade status`, --json). */
export interface ControllerStatus {
  ip: string;
  model: string;
  role: 'local' | 'standby';
  state: ControllerState;
  /** Attempt within the current quick-try cycle (1..quickTries) while downloading. */
  attempt?: number;
  /** Download attempts so far, all cycles. */
  attempts: number;
  /** Bytes received in the current download, and the image size. */
  bytes?: number;
  totalBytes?: number;
  /** ISO time of the next download cycle while waiting-retry. */
  nextRetryAt?: string;
  lastError?: string;
  image?: string;
  targetVersion?: string;
  targetBuild?: number;
  runningVersion?: string;
  runningBuild?: number;
  /** ISO time of the last change. */
  updatedAt?: string;
}
