import { validate } from '../../src/domain/config';
import {
  controllerUpgradeInputSchema,
  verifyImageInputSchema,
  type ControllerUpgradeInput,
} from '../../src/domain/schemas';
import { a7210, verifiedImage } from './upgrade-fixtures';

function childInput(): ControllerUpgradeInput {
  return {
    campaign: 'spring',
    controller: { ...a7210('10.1.4.17'), ssh: { host: '127.0.0.1' } },
    source: {
      imageFile: 'ArubaOS_72xx_6.4.0.0_81234',
      server: { host: '127.0.0.1', port: 2121 },
      protocol: 'ftp',
    },
    image: { ...verifiedImage },
    autoboot: false,
    retryInterval: '15m',
    quickTries: 3,
    partition: 'non-boot',
  };
}

function issues(result: { ok: boolean; issues?: string[] }): string[] {
  return result.ok ? [] : (result.issues ?? []);
}

describe('controllerUpgrade input', () => {
  it('accepts what the master sends and fills in the SSH port', () => {
    const result = validate(controllerUpgradeInputSchema, childInput());
    expect(result.ok && result.value.controller.ssh.port).toBe(22);
  });

  it('checks the whole input, naming each field', () => {
    const good = childInput();
    const bad = {
      ...good,
      controller: { ...good.controller, ssh: { host: 'not a host' } },
      source: { ...good.source, protocol: 'gopher' },
      image: { ...good.image, payloadSha256: 'xyz' },
      quickTries: 0,
      retryInterval: '10ms',
      rebootTimeout: '1d',
      master: { workflowId: '' },
      extra: 1,
    };
    expect(issues(validate(controllerUpgradeInputSchema, bad))).toEqual([
      'controller.ssh.host must be an IPv4 address or host name',
      'source.protocol must be one of ftp, ftps, scp, sftp, tftp, http',
      'image.payloadSha256 must be a hex SHA-256',
      "retryInterval must be a duration of at least 1s and at most 365d ('15m', '30s', '2h')",
      'quickTries must be >= 1',
      "rebootTimeout must be a duration between 1s and 2h ('10m', '90s')",
      'master.workflowId must not be empty',
      'extra is not a known field',
    ]);
  });

  it('refuses a secret without echoing it', () => {
    const good = childInput();
    const bad = { ...good, source: { ...good.source, password: 's3cret' } };
    const found = issues(validate(controllerUpgradeInputSchema, bad));
    expect(found).toEqual([
      "source.password is not accepted: secrets never go into a campaign; use credentialsRef (a name in the worker's credential store)",
    ]);
  });

  it('uses the one file-name rule (issue 9, bug 2)', () => {
    const bad = childInput();
    bad.source.imageFile = 'images/.hidden';
    expect(issues(validate(controllerUpgradeInputSchema, bad))[0]).toMatch(
      /^source\.imageFile must be a file name: /,
    );
  });
});

describe('verifyImage input', () => {
  it('names fields under verifyImage', () => {
    const found = issues(
      validate(
        verifyImageInputSchema,
        {
          source: { imageFile: 'a/./b', server: { host: '127.0.0.1', hostKey: 'md5:xx' }, protocol: 'scp' },
          models: [],
        },
        'verifyImage',
      ),
    );
    expect(found).toEqual([
      expect.stringMatching(/^verifyImage\.source\.imageFile must be a file name: /),
      "verifyImage.source.server.hostKey must be a host-key fingerprint 'SHA256:<base64>'",
      'verifyImage.models must name at least one model',
    ]);
  });

  it('requires the source', () => {
    expect(issues(validate(verifyImageInputSchema, { models: ['A7210'] }, 'verifyImage'))).toEqual([
      'verifyImage.source is required',
    ]);
  });
});
