import type { Credentials } from '../credentials/store';
import {
  HEADER_SIZE,
  describeImageHeader,
  inspectImageFile,
  parseImageHeader,
  type ImageHeader,
} from '../image';
import type { TransferEndpoint } from './endpoint';
import { readHeader } from './client';
import { parseImageUrl } from './url';

/** What `ciu image inspect` found. */
export interface InspectedImage {
  header: ImageHeader;
  /** Bytes read from the file or server to get the header. */
  bytesRead: number;
  /** Print-ready `key: value` lines. */
  text: string;
}

/** Extra connection facts for a URL source. */
export interface InspectOptions {
  /** Login for the server (from the credential store), if the protocol needs one. */
  credentials?: Credentials;
  /** Pinned SSH host key ('SHA256:<base64>') for scp/sftp URLs. */
  hostKey?: string;
  knownHostsFile?: string;
  caFile?: string;
}

/** Reads and describes the header of a local image file or of an image URL (ftp, ftps, scp, sftp, tftp, http). */
export async function inspectImage(source: string, options: InspectOptions = {}): Promise<InspectedImage> {
  if (!/^[a-z]+:\/\//i.test(source)) {
    const header = await inspectImageFile(source);
    return { header, bytesRead: HEADER_SIZE, text: describeImageHeader(header, source) };
  }
  const { endpoint: base, path } = parseImageUrl(source);
  const endpoint: TransferEndpoint = { ...base, ...options };
  const { bytes, bytesTransferred } = await readHeader(endpoint, path, HEADER_SIZE);
  const header = parseImageHeader(bytes);
  return { header, bytesRead: bytesTransferred, text: describeImageHeader(header, source) };
}
