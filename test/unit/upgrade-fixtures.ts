import type { VerifiedImage } from '../../activities/types';
import type { Controller } from '../../src/domain/types';

/** The header facts of a verified A7210 image, as the master hands them to a child. */
export const verifiedImage: VerifiedImage = {
  imageType: '72xx',
  version: '6.4.0.0',
  build: 81234,
  payloadLength: 4096,
  payloadSha256: 'ab'.repeat(32),
  bytesRead: 64,
};

/** An A7210 local controller answering SSH on the loopback. */
export function a7210(ip: string): Controller {
  return {
    ip,
    model: 'A7210',
    role: 'local',
    ssh: { host: '127.0.0.1', port: 2222 },
    credentialsRef: 'ctl-admin',
  };
}
