/**
 * Image-server clients: one per protocol behind one interface. readHeader fetches only the first
 * bytes (ranged or aborted read); download streams the whole file to disk.
 */
export { download, readHeader } from './client';
export type { DownloadOptions, HeaderRead, TransferEndpoint } from './endpoint';
export { describeLocation, portOf } from './endpoint';
export { TransferError, type TransferErrorCode } from './errors';
export {
  checkHostKey,
  hostKeyFingerprint,
  hostKeyVerifier,
  knownHostKeys,
  type HostKeyPolicy,
  type HostKeyVerdict,
} from './host-key';
export { parseImageUrl } from './url';
export { inspectImage, type InspectedImage, type InspectOptions } from './inspect';
