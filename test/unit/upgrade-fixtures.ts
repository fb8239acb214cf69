import type { VerifiedImage } from '../../activities/types';
import type { CampaignConfig, Controller } from '../../src/domain/types';

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

/** A valid campaign config over the given controllers, targeting 'all' unless told. */
export function campaignConfig(
  controllers: Controller[],
  overrides: Partial<CampaignConfig['profile']> = {},
  targets = ['all'],
): CampaignConfig {
  return {
    inventory: controllers,
    profile: {
      models: {
        A7210: {
          imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
          server: { host: '127.0.0.1', port: 21 },
          protocol: 'ftp',
          credentialsRef: 'ftp-images',
        },
      },
      autoboot: false,
      maxDownloads: 10,
      retryInterval: '15m',
      quickTries: 3,
      partition: 'non-boot',
      ...overrides,
    },
    targets,
  };
}
