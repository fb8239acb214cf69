/** Reply parsers on transcripts captured from the simulated controller (test/fixtures/device). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { failureTypes } from '../../src/domain/errors';
import {
  ReplyFormatError,
  commandError,
  parseCopyReply,
  parseImageChecksum,
  parseProgressLine,
  parseShowImageVersion,
  parseShowLog,
  parseShowStorage,
  parseShowSwitches,
  parseSwitchHealth,
  parseShowVersion,
} from '../../src/device/parsers';

const transcript = (name: string): string =>
  readFileSync(join(__dirname, '../fixtures/device', name), 'utf8');

describe('parseShowVersion', () => {
  test('reads model, version and build from the simulator', () => {
    expect(parseShowVersion(transcript('show-version.txt'))).toEqual({
      model: 'A7210',
      version: '6.3.1.0',
      build: 40000,
      uptimeSeconds: 0,
    });
  });

  test('reads a real ArubaOS reply with a country suffix and a letter model', () => {
    const real = [
      'Aruba Operating System Software.',
      'ArubaOS (MODEL: Aruba7210-US), Version 6.3.1.0',
      'Compiled on 2013-10-08 at 00:29:34 PDT (build 40360) by p4build',
      'Switch uptime is 1 hours 4 minutes 42 seconds',
    ].join('\r\n');
    expect(parseShowVersion(real)).toEqual({
      model: 'A7210',
      version: '6.3.1.0',
      build: 40360,
      uptimeSeconds: 3882,
    });
    expect(parseShowVersion(real.replace('is 1 hours', 'is 2 days 1 hours')).uptimeSeconds).toBe(
      2 * 86400 + 3882,
    );
    expect(parseShowVersion(real.replace('Aruba7210-US', 'ArubaM3')).model).toBe('M3');
  });

  test('a reply without the MODEL line names what is missing', () => {
    expect(() => parseShowVersion('% Invalid input')).toThrow(
      new ReplyFormatError('show version', 'no "MODEL: Aruba…" line'),
    );
  });

  test('a version with an escape sequence in it (a hostile controller setting the terminal title) is refused', () => {
    const hostile = [
      'ArubaOS (MODEL: Aruba7210-US), Version 6.4\x1b]0;owned\x07',
      'Compiled on 2013-10-08 at 00:29:34 PDT (build 40360) by p4build',
    ].join('\r\n');
    expect(() => parseShowVersion(hostile)).toThrow(
      new ReplyFormatError(
        'show version',
        'version "6.4\\u001b]0;owned\\u0007" is not a version like 6.4.0.0',
      ),
    );
    expect(() => parseShowVersion(hostile.replace('6.4\x1b]0;owned\x07', 'x'.repeat(40)))).toThrow(
      /is not a version like 6\.4\.0\.0/,
    );
  });
});

describe('parseShowImageVersion', () => {
  test('one image: partition 0 running and default boot, partition 1 empty', () => {
    expect(parseShowImageVersion(transcript('show-image-version-one-image.txt'))).toEqual([
      {
        partition: 0,
        defaultBoot: true,
        running: true,
        version: '6.3.1.0',
        build: 40000,
        signature: 'Digitally Signed SHA1/SHA256 - Production Build',
      },
      { partition: 1, defaultBoot: false, running: false },
    ]);
  });

  test('two images after `boot system partition 1`: running 0, boots 1 next', () => {
    expect(parseShowImageVersion(transcript('show-image-version-two-images.txt'))).toEqual([
      {
        partition: 0,
        defaultBoot: false,
        running: true,
        version: '6.3.1.0',
        build: 40000,
        signature: 'Digitally Signed SHA1/SHA256 - Production Build',
      },
      {
        partition: 1,
        defaultBoot: true,
        running: false,
        version: '6.4.0.0',
        build: 81234,
        signature: 'Digitally Signed SHA1/SHA256 - Production Build',
      },
    ]);
  });

  test('a partition version that is not a version is refused, not stored', () => {
    const hostile = transcript('show-image-version-two-images.txt').replace(
      'ArubaOS 6.4.0.0',
      'ArubaOS 6.4\x1b[2J',
    );
    expect(() => parseShowImageVersion(hostile)).toThrow(
      new ReplyFormatError('show image version', 'version "6.4\\u001b[2J" is not a version like 6.4.0.0'),
    );
  });

  test('no partitions at all is a format error', () => {
    expect(() => parseShowImageVersion('')).toThrow(ReplyFormatError);
  });
});

describe('parseImageChecksum', () => {
  test('a written partition gives its payload SHA-256; an empty one undefined', () => {
    expect(parseImageChecksum(transcript('show-image-checksum.txt'))).toMatch(/^[0-9a-f]{64}$/);
    expect(parseImageChecksum(transcript('show-image-checksum-empty.txt'))).toBeUndefined();
  });

  test('anything else is a format error', () => {
    expect(() => parseImageChecksum('% Invalid input detected')).toThrow(ReplyFormatError);
  });
});

describe('parseProgressLine', () => {
  test('reads bytes and total; ignores other lines', () => {
    expect(parseProgressLine('Received 65536 of 3145984 bytes (2%)\r')).toEqual({
      bytes: 65536,
      totalBytes: 3145984,
    });
    expect(parseProgressLine('Received 512 bytes')).toEqual({ bytes: 512 });
    expect(parseProgressLine('Downloading x from y (ftp)')).toBeUndefined();
  });
});

describe('parseCopyReply', () => {
  test('success: the last progress line gives the bytes', () => {
    expect(parseCopyReply(transcript('copy-ftp-success.txt'))).toEqual({
      ok: true,
      bytes: 3145984,
      totalBytes: 3145984,
    });
  });

  test.each([
    [
      'copy-ftp-refused.txt',
      failureTypes.downloadFailed,
      'transfer refused: image server 127.0.0.1 closed the data connection (simulated fault)',
    ],
    ['copy-ftp-flash-full.txt', failureTypes.flashFull, 'not enough space on flash to store the image'],
    [
      'copy-ftp-wrong-image-type.txt',
      failureTypes.imageTypeMismatch,
      'image type 72xx is not supported on this platform (A7010, image type 70xx)',
    ],
  ])('%s → %s with the controller’s exact words', (file, failureType, error) => {
    expect(parseCopyReply(transcript(file))).toEqual({ ok: false, failureType, error });
  });

  test('a corrupt transfer is a failed download naming the checksum mismatch', () => {
    const reply = parseCopyReply(transcript('copy-ftp-corrupt.txt'));
    expect(reply).toMatchObject({ ok: false, failureType: failureTypes.downloadFailed });
    expect(!reply.ok && reply.error).toMatch(
      /^image integrity check failed: .* payload SHA-256 is [0-9a-f]{64}, the header says/,
    );
  });

  test('a refused image-server login is an authentication failure', () => {
    const reply = parseCopyReply(transcript('copy-ftp-wrong-password.txt'));
    expect(reply).toMatchObject({ ok: false, failureType: failureTypes.authenticationFailed });
    expect(!reply.ok && reply.error).toMatch(/^login refused by image server: .*530 Login incorrect\.$/);
  });

  test('output that neither succeeds nor names an error is still a failure, never a success', () => {
    expect(
      parseCopyReply('Password:\r\nDownloading x from 127.0.0.1 (ftp)\r\nReceived 10 of 100 bytes (10%)\r\n'),
    ).toEqual({
      ok: false,
      failureType: failureTypes.downloadFailed,
      error: 'copy ended without "Image upgraded successfully"',
    });
  });
});

describe('parseShowLog', () => {
  test('splits time, severity, process and message', () => {
    const lines = parseShowLog(transcript('show-log-system.txt'));
    expect(lines.map((l) => [l.severity, l.process])).toEqual([
      ['INFO', 'sysmgr'],
      ['INFO', 'fpapps'],
      ['INFO', 'cli'],
      ['ERRS', 'ciu'],
    ]);
    expect(lines[3]?.message).toBe("ciu c1: download failed '550 no such file'");
    expect(lines[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});

describe('commandError', () => {
  test('finds the CLI’s rejection, and nothing in a normal reply', () => {
    expect(commandError(transcript('invalid-command.txt'))).toBe("% Invalid input detected at '^' marker.");
    expect(commandError(transcript('boot-system-partition-empty.txt'))).toBe(
      'Error: partition 1 does not contain a valid image',
    );
    expect(commandError(transcript('show-version.txt'))).toBeUndefined();
  });
});

describe('parseShowSwitches', () => {
  const header =
    'IP Address    IPv6 Address  Name                          Location          Type     Model       Version          Status  Configuration State  Config Sync Time (sec)  Config ID';
  const underline =
    '----------    ------------  ----                          --------          ----     -----       -------          ------  -------------------  ----------------------  ---------';
  const row = (
    ip: string,
    name: string,
    type: string,
    model: string,
    version: string,
    status = 'up',
    configState = 'UPDATE SUCCESSFUL',
  ) =>
    `${ip.padEnd(14)}${'None'.padEnd(14)}${name.padEnd(30)}${'Building1.floor1'.padEnd(18)}${type.padEnd(9)}${model.padEnd(12)}${version.padEnd(17)}${status.padEnd(8)}${configState.padEnd(21)}${'0'.padEnd(24)}29`;
  const healthy = { status: 'up', configState: 'UPDATE SUCCESSFUL' };

  test('columns from the dashed underline: wide names and an unparsable row do not shift the rest', () => {
    const text = [
      'All Switches',
      '------------',
      header,
      underline,
      row('10.1.1.10', 'conductor-with-a-long-name-1', 'conductor', 'ArubaMM-VA', '8.6.0.2_73853'),
      row('10.1.1.11', 'md-1', 'MD', 'Aruba7210', '8.6.0.2_73853'),
      row('10.1.1.12', 'sb-1', 'standby', 'Aruba7005-US', '6.5.4.8'),
      row('10.1.1.x', 'broken', 'MD', 'Aruba7210', '8.6.0.2_73853'),
      '',
      'Total Switches:4',
    ].join('\r\n');
    const reply = parseShowSwitches(text);
    expect(reply.switches).toEqual([
      {
        ip: '10.1.1.10',
        model: 'MM',
        role: 'master',
        version: '8.6.0.2',
        build: 73853,
        name: 'conductor-with-a-long-name-1',
        ...healthy,
      },
      {
        ip: '10.1.1.11',
        model: 'A7210',
        role: 'local',
        version: '8.6.0.2',
        build: 73853,
        name: 'md-1',
        ...healthy,
      },
      { ip: '10.1.1.12', model: 'A7005', role: 'standby', version: '6.5.4.8', name: 'sb-1', ...healthy },
    ]);
    expect(reply.refused).toEqual([
      { line: expect.stringMatching(/^10\.1\.1\.x +None +broken/), reason: 'no IPv4 address' },
    ]);
  });

  test('a reply without the header underline is refused as a whole', () => {
    expect(() => parseShowSwitches('IP Address Name\n10.1.1.1 x')).toThrow(
      'unexpected reply to "show switches": no header with a dashed underline',
    );
  });

  describe("parseSwitchHealth: the controller's own row after a reboot", () => {
    const table = (...rows: string[]) =>
      ['All Switches', '------------', header, underline, ...rows].join('\n');
    const failed = /FAIL|ERROR/i;

    test('healthy when its own row is up and its configuration state is not a failure', () => {
      const text = table(
        row('10.1.1.10', 'conductor', 'master', 'Aruba7210', '8.6.0.2_73853', 'up', 'UPDATE FAILED'),
        row('10.1.1.11', 'md-1', 'MD', 'Aruba7210', '8.6.0.2_73853', 'up', 'UPDATE REQUIRED'),
      );
      expect(parseSwitchHealth(text, '10.1.1.11', failed)).toEqual({
        found: true,
        status: 'up',
        configState: 'UPDATE REQUIRED',
      });
    });

    test('names every reason of an unhealthy row, cleaned of escape sequences', () => {
      const text = table(
        row('10.1.1.11', 'md-1', 'MD', 'Aruba7210', '8.6.0.2_73853', 'down', 'UPDATE FAILED\u001b[2J'),
      );
      expect(parseSwitchHealth(text, '10.1.1.11', failed)).toEqual({
        found: true,
        status: 'down',
        configState: 'UPDATE FAILED',
        problem: 'show switches: Status down, Configuration State UPDATE FAILED',
      });
    });

    test('a table without its own row judges nothing', () => {
      const text = table(row('10.1.1.10', 'conductor', 'master', 'Aruba7210', '8.6.0.2_73853'));
      expect(parseSwitchHealth(text, '10.1.1.11', failed)).toEqual({ found: false });
    });
  });
});

describe('parseShowStorage', () => {
  // ArubaOS `show storage`: a df-style table; copy stages images on /flash.
  const reply = [
    'Filesystem                Size      Used Available Use% Mounted on',
    'none                     60.0M      2.4M     57.6M   4% /tmp',
    '/dev/usbdisk/part1      241.6M    206.6M     35.0M  85% /flash',
    '',
  ].join('\r\n');

  test('the /flash row in bytes', () => {
    expect(parseShowStorage(reply, '/flash')).toEqual({
      mount: '/flash',
      sizeBytes: Math.round(241.6 * 1024 ** 2),
      usedBytes: Math.round(206.6 * 1024 ** 2),
      availableBytes: 35 * 1024 ** 2,
    });
  });

  test('sizes in K, G and plain bytes', () => {
    const text = 'Filesystem Size Used Available Use% Mounted on\n/dev/ud3 1.8G 4.0K 0 100% /flash\n';
    expect(parseShowStorage(text, '/flash')).toEqual({
      mount: '/flash',
      sizeBytes: Math.round(1.8 * 1024 ** 3),
      usedBytes: 4096,
      availableBytes: 0,
    });
  });

  test('no /flash row, or no sizes in it, is a reply it cannot use', () => {
    expect(() => parseShowStorage('Filesystem Size Used Available Use% Mounted on\n', '/flash')).toThrow(
      new ReplyFormatError('show storage', 'no file system mounted on /flash'),
    );
    expect(() => parseShowStorage('/dev/ud3 big some none 100% /flash\n', '/flash')).toThrow(
      'unexpected reply to "show storage": no sizes in the /flash row',
    );
  });
});
