/**
 * The one SSH connect helper (controller CLI and scp/sftp image servers): errors before `ready`,
 * and the algorithms it offers. ssh2's Client.connect is replaced, so nothing touches the network.
 */
import { Client, type ConnectConfig } from 'ssh2';
import { ControllerDriver } from '../../src/device/driver';
import { DeviceError } from '../../src/device/errors';
import { failureTypes } from '../../src/domain/errors';
import { connectSsh, modernSshAlgorithms, sshAlgorithms } from '../../src/transfer/ssh-connect';
import { TransferError } from '../../src/transfer/errors';

const hostKey = `SHA256:${'A'.repeat(43)}`;

/** ssh2 emitting two errors before `ready`, as it does when a socket dies mid-handshake. */
function connectEmitsTwoErrors(): jest.SpyInstance {
  return jest.spyOn(Client.prototype, 'connect').mockImplementation(function (this: Client) {
    setImmediate(() => {
      this.emit('error', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
      this.emit('error', new Error('Connection lost before handshake'));
    });
    return this;
  });
}

afterEach(() => jest.restoreAllMocks());

/** Lets the second error's tick run: an unheard one would throw there and crash the worker. */
const nextTicks = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('a second ssh2 error before ready', () => {
  test('the controller driver reports one ControllerUnreachable and survives the second error', async () => {
    connectEmitsTwoErrors();
    const opening = ControllerDriver.open({ host: '127.0.0.1', port: 22, username: 'admin', hostKey });
    await expect(opening).rejects.toThrow(DeviceError);
    await expect(opening).rejects.toMatchObject({
      failureType: failureTypes.controllerUnreachable,
      message: 'controller 127.0.0.1:22 unreachable: read ECONNRESET',
    });
    await nextTicks();
  });

  test('an image-server connection reports one TransferError and survives the second error', async () => {
    connectEmitsTwoErrors();
    const opening = connectSsh({
      protocol: 'sftp',
      host: '127.0.0.1',
      port: 22,
      hostKey,
      credentials: { username: 'images', password: 'x' },
    });
    await expect(opening).rejects.toThrow(TransferError);
    await expect(opening).rejects.toMatchObject({ code: 'unreachable' });
    await nextTicks();
  });
});

describe('SSH algorithms', () => {
  test('no SHA-1: no ssh-rsa host keys, no hmac-sha1, no SHA-1 key exchange', () => {
    const offered = sshAlgorithms({});
    const all = Object.values(offered).flat() as string[];
    expect(all).not.toContain('ssh-rsa');
    expect(all.filter((name) => /sha1/.test(name))).toEqual([]);
    expect(offered.serverHostKey).toEqual(modernSshAlgorithms.serverHostKey);
  });

  test('CIU_SSH_LEGACY_ALGORITHMS re-enables named legacy algorithms, last in preference', () => {
    const offered = sshAlgorithms({ CIU_SSH_LEGACY_ALGORITHMS: 'ssh-rsa, hmac-sha1' });
    expect(offered.serverHostKey).toEqual([...modernSshAlgorithms.serverHostKey, 'ssh-rsa']);
    expect(offered.hmac).toEqual([...modernSshAlgorithms.hmac, 'hmac-sha1']);
    expect(() => sshAlgorithms({ CIU_SSH_LEGACY_ALGORITHMS: 'arcfour' })).toThrow(
      'CIU_SSH_LEGACY_ALGORITHMS: "arcfour" is not one of ssh-rsa, hmac-sha1',
    );
  });

  test('the controller driver offers exactly those algorithms', async () => {
    let config: ConnectConfig | undefined;
    jest.spyOn(Client.prototype, 'connect').mockImplementation(function (this: Client, given) {
      config = given;
      setImmediate(() => this.emit('error', new Error('stop here')));
      return this;
    });
    await expect(
      ControllerDriver.open({ host: '127.0.0.1', port: 22, username: 'admin', hostKey }),
    ).rejects.toThrow('stop here');
    expect(config?.algorithms).toEqual(sshAlgorithms({}));
  });
});
