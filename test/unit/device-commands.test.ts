/** Command builders: exact lines, and every value validated so nothing can be injected into the CLI. */
import { dialects } from '../../src/domain/dialects';
import * as commands from '../../src/device/commands';
import { CommandValueError, quoteLogText } from '../../src/device/validate';
import { parseCopyArgs } from '../../devkit/simulator/copy';
import { words as tokenize } from '../../devkit/simulator/command-tree';

const arubaos = dialects.arubaos;
const ext = dialects['arubaos-ext'];
const base: commands.CopyRequest = {
  protocol: 'ftp',
  host: '10.1.4.2',
  user: 'images',
  file: 'ArubaOS_72xx_6.4.0.0_81234',
  partition: 1,
};

describe('copyImage', () => {
  test('ArubaOS word order as documented; the password is never part of the line', () => {
    expect(commands.copyImage(base, arubaos)).toBe(
      'copy ftp: 10.1.4.2 images ArubaOS_72xx_6.4.0.0_81234 system: partition 1',
    );
    expect(commands.copyImage({ ...base, protocol: 'tftp', user: undefined, partition: 0 }, arubaos)).toBe(
      'copy tftp: 10.1.4.2 ArubaOS_72xx_6.4.0.0_81234 system: partition 0',
    );
  });

  test('arubaos: no port or host-key clause; the default port is implied, another one refused', () => {
    const hostKey = `SHA256:${'A'.repeat(43)}`;
    expect(commands.copyImage({ ...base, protocol: 'scp', port: 22, hostKey }, arubaos)).toBe(
      'copy scp: 10.1.4.2 images ArubaOS_72xx_6.4.0.0_81234 system: partition 1',
    );
    expect(() => commands.copyImage({ ...base, port: 2121 }, arubaos)).toThrow(
      "server.port must be 21: the controller's copy command has no port clause",
    );
    expect(() => commands.copyImage({ ...base, protocol: 'sftp' }, arubaos)).toThrow(
      'protocol must be one of ftp, scp, tftp',
    );
  });

  test('arubaos-ext: port and pinned image-server host key are appended', () => {
    const hostKey = `SHA256:${'A'.repeat(43)}`;
    expect(
      commands.copyImage({ ...base, protocol: 'scp', port: 2222, hostKey, file: 'images/a.img' }, ext),
    ).toBe(`copy scp: 10.1.4.2 images images/a.img system: partition 1 port 2222 host-key ${hostKey}`);
  });

  test.each<[Partial<commands.CopyRequest>, string]>([
    [
      { file: 'a.img system: partition 0' },
      'imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
    ],
    [
      { file: 'a.img;reload' },
      'imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
    ],
    [
      { file: 'a.img\nreload' },
      'imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
    ],
    [
      { file: '../etc/passwd' },
      'imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
    ],
    [
      { file: '-rf' },
      'imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
    ],
    [{ file: '' }, 'imageFile must be a file name, not empty'],
    [{ host: '10.1.4.2 admin' }, 'server.host must be an IPv4 address or a host name'],
    [{ host: '10.1.4.256' }, 'server.host must be an IPv4 address or a host name'],
    [{ host: '-oProxyCommand=x' }, 'server.host must be an IPv4 address or a host name'],
    [{ user: '-admin' }, 'user must be a user name'],
    [{ user: 'admin;reload' }, 'user must be a user name'],
    [{ user: 'a b' }, 'user must be a user name'],
    [{ protocol: 'scp', user: undefined }, 'user is required for scp'],
    [{ partition: 2 as 0 }, 'partition must be partition 0 or 1'],
    [{ port: 0 }, 'server.port must be an integer port'],
    [{ port: 70000 }, 'server.port must be an integer port'],
    [{ hostKey: 'SHA256:abc reload' }, "server.hostKey must be a host-key fingerprint 'SHA256:<base64>'"],
    [{ protocol: 'gopher' as 'ftp' }, 'protocol must be one of ftp, ftps, scp, sftp, tftp, http'],
  ])('refuses %j, naming the field', (change, message) => {
    const build = () => commands.copyImage({ ...base, ...change }, ext);
    expect(build).toThrow(CommandValueError);
    expect(build).toThrow(message);
  });

  test('the simulator parses exactly what the driver builds, in each dialect', () => {
    const hostKey = `SHA256:${'b'.repeat(43)}`;
    const args = (line: string) => tokenize(line).slice(1);
    for (const protocol of arubaos.protocols) {
      const request = { ...base, protocol, port: protocol === 'tftp' ? 69 : undefined, hostKey };
      if (protocol === 'tftp') delete request.user;
      const line = commands.copyImage(request, arubaos);
      expect(parseCopyArgs(args(line), false)).toEqual({
        protocol,
        host: '10.1.4.2',
        ...(protocol === 'tftp' ? {} : { user: 'images' }),
        file: 'ArubaOS_72xx_6.4.0.0_81234',
        partition: 1,
      });
    }
    const line = commands.copyImage({ ...base, protocol: 'sftp', port: 2222, hostKey }, ext);
    expect(() => parseCopyArgs(args(line), false)).toThrow('invalid copy argument at word 0');
    expect(parseCopyArgs(args(line), true)).toEqual({
      protocol: 'sftp',
      host: '10.1.4.2',
      user: 'images',
      file: 'ArubaOS_72xx_6.4.0.0_81234',
      partition: 1,
      port: 2222,
      hostKey,
    });
    expect(() => parseCopyArgs(args('copy scp: 10.1.4.2 a.img system: partition 1'), false)).toThrow(
      'invalid copy argument at word 4',
    );
    expect(() =>
      parseCopyArgs(args('copy ftp: 10.1.4.2 u a.img system: partition 1 port 21'), false),
    ).toThrow('invalid copy argument at word 7');
  });
});

describe('other commands', () => {
  test('fixed and numbered commands', () => {
    expect(commands.showVersion()).toBe('show version');
    expect(commands.showImageVersion()).toBe('show image version');
    expect(commands.showImageChecksum(1)).toBe('show image checksum partition 1');
    expect(commands.bootSystemPartition(0)).toBe('boot system partition 0');
    expect(commands.reload()).toBe('reload');
    expect(commands.showLog(50)).toBe('show log system 50');
    expect(() => commands.showLog(0)).toThrow('lines must be an integer between 1 and 10000');
    expect(() => commands.bootSystemPartition(3)).toThrow('partition must be partition 0 or 1');
  });

  test('log text is one quoted word: no newline, no quote, no backslash can escape it', () => {
    const line = commands.logMessage('error', 'download failed: "550"\nreload\\');
    expect(line).toBe(`logging message error "download failed: '550' reload"`);
    expect(tokenize(line)).toEqual(['logging', 'message', 'error', "download failed: '550' reload"]);
    expect(() => commands.logMessage('debug' as 'info', 'x')).toThrow('level must be error, warning or info');
    expect(() => quoteLogText(' \n ')).toThrow('message must not be empty');
    expect(quoteLogText('x'.repeat(1000))).toHaveLength(402);
  });
});
