/**
 * Stable failure types. Activities throw ApplicationFailure with one of these as `type`; workflows
 * and tests branch on the type, never on message text.
 */
export const failureTypes = {
  /** Image header wrong: bad magic/checksum, wrong type for a model, version/build mismatch, missing file. Permanent. */
  imageVerificationFailed: 'ImageVerificationFailed',
  /** Image server not reachable or timed out. Transient. */
  imageServerUnreachable: 'ImageServerUnreachable',
  /** A login (image server or controller) was refused. Permanent until the operator fixes credentials. */
  authenticationFailed: 'AuthenticationFailed',
  /** A host key did not match the pinned one. Permanent. */
  hostKeyMismatch: 'HostKeyMismatch',
  /** The credentials reference names nothing in the worker's store. Permanent. */
  unknownCredentials: 'UnknownCredentials',
  /** The worker's credential store does not let this credential go where the input asks (host, port, protocol, purpose, host key), or holds it in a form ciu refuses. Permanent. */
  credentialsNotAllowed: 'CredentialsNotAllowed',
  /** The controller's download failed (transfer error, corrupt bytes, stalled). Counts as one try. */
  downloadFailed: 'DownloadFailed',
  /** The image is not for this controller's platform. Permanent. */
  imageTypeMismatch: 'ImageTypeMismatch',
  /** Not enough flash on the controller. Permanent. */
  flashFull: 'FlashFull',
  /** The controller's SSH did not answer. Transient. */
  controllerUnreachable: 'ControllerUnreachable',
  /** The controller's CLI refused a command (`% Invalid input`, `Error: …`): sending it again cannot help. Permanent. */
  commandRejected: 'CommandRejected',
  /** The controller answered a CLI command with something the driver cannot parse. Retryable. */
  unexpectedControllerReply: 'UnexpectedControllerReply',
  /** The image on the controller's partition failed its integrity check. Counts as one try. */
  integrityCheckFailed: 'IntegrityCheckFailed',
  /** The controller did not come back after reload within the deadline. */
  rebootTimeout: 'RebootTimeout',
  /** The controller came back, but not on the expected version/build. */
  versionMismatchAfterReboot: 'VersionMismatchAfterReboot',
  /** A workflow input failed validation. Permanent. */
  invalidInput: 'InvalidInput',
} as const;

export type FailureType = (typeof failureTypes)[keyof typeof failureTypes];

/** Failure types that end a controller's upgrade as failed instead of retrying. */
export const permanentControllerFailures: readonly FailureType[] = [
  failureTypes.authenticationFailed,
  failureTypes.hostKeyMismatch,
  failureTypes.unknownCredentials,
  failureTypes.credentialsNotAllowed,
  failureTypes.imageTypeMismatch,
  failureTypes.flashFull,
  failureTypes.commandRejected,
];
