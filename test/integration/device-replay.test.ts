/**
 * The driver against recorded real ArubaOS output (test/fixtures/device/real), replayed by a stub
 * SSH server that knows nothing of ciu: 8.x prompts with `*`/`^` markers, user mode and `enable`,
 * `\r\n` line ends, ANSI escapes and a pager. The simulator's `show image version` is held to the
 * real layout.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Server, utils, type Connection } from 'ssh2';
import { createControllerActivities } from '../../activities/controller';
import { staticCredentialStore } from '../../src/credentials/store';
import { failureTypes } from '../../src/domain/errors';
import { dialectFor } from '../../src/device/dialect';
import { ControllerDriver } from '../../src/device/driver';
import { DeviceSession } from '../../src/device/session';
import { parseShowImageVersion } from '../../src/device/parsers';
import { hostKeyFingerprint } from '../../src/transfer/host-key';
import { SimulatedController } from '../../devkit/simulator/controller';
import { activityEnvironment, failure } from '../fixtures/activity-env';

const real = (name: string): string => readFileSync(join(__dirname, '../fixtures/device/real', name), 'utf8');

/** What the stub says: one reply per command line, and the prompt after it. */
interface Transcript {
  userPrompt: string;
  enablePrompt: string;
  enablePassword: string;
  /** Pages of each reply: after each but the last the stub shows its pager and waits for a key. */
  replies: Record<string, string[]>;
}

const pager = '--More-- (q) quit (u) pageup (/) search (n) repeat';

function keyPair(): string {
  for (;;) {
    const { private: key } = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(key) instanceof Error)) return key;
  }
}

/** A stub controller: replays `transcript` with \r\n line ends, echoing typed characters. */
async function replayServer(
  transcript: Transcript,
): Promise<{ port: number; hostKey: string; received: string[]; stop(): Promise<void> }> {
  const key = keyPair();
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  const received: string[] = [];
  const clients = new Set<Connection>();
  const server = new Server({ hostKeys: [key] }, (client) => {
    clients.add(client);
    client.on('error', () => clients.delete(client));
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () =>
      client.on('session', (accept) => {
        const session = accept();
        session.on('pty', (ok) => ok());
        session.on('shell', (ok) => {
          const channel = ok();
          const send = (text: string) => channel.write(text.replace(/\n/g, '\r\n'));
          let prompt = transcript.userPrompt;
          let line = '';
          let askingPassword = false;
          let pages: string[] = [];
          const nextPage = () => {
            const page = pages.shift() ?? '';
            send(pages.length > 0 ? `${page}${pager}` : `${page}${prompt}`);
          };
          send(`\n${prompt}`);
          channel.on('data', (chunk: Buffer) => {
            for (const ch of chunk.toString()) {
              if (pages.length > 0) {
                send(`\r${' '.repeat(pager.length)}\r`);
                nextPage();
                continue;
              }
              if (ch !== '\r' && ch !== '\n') {
                line += ch;
                if (!askingPassword) channel.write(ch);
                continue;
              }
              if (ch === '\n' && line === '') continue;
              const typed = line;
              line = '';
              send('\n');
              if (askingPassword) {
                askingPassword = false;
                if (typed === transcript.enablePassword) prompt = transcript.enablePrompt;
                send(prompt);
              } else if (typed === 'enable') {
                askingPassword = true;
                send('Password:');
              } else {
                received.push(typed);
                pages = [...(transcript.replies[typed] ?? ["% Invalid input detected at '^' marker.\n"])];
                nextPage();
              }
            }
          });
        });
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    hostKey: hostKeyFingerprint(parsed.getPublicSSH()),
    received,
    stop: () =>
      new Promise((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}

const realImages = real('show-image-version-8.x.txt');

describe.each([
  ['(Aruba7210) *[mynode] #', '(Aruba7210) [mynode] >'],
  ['(Aruba7210) ^[mynode] #', '(Aruba7210) [mynode] >'],
  ['(Aruba7210) *#', '(Aruba7210) >'],
])('the driver against a replayed ArubaOS 8 controller prompting %j', (enablePrompt, userPrompt) => {
  test('enable with the enable password, no paging, then `show image version` read from the real reply', async () => {
    const stub = await replayServer({
      userPrompt,
      enablePrompt,
      enablePassword: 'En-pa55',
      replies: {
        'no paging': [''],
        // A colour reset and a pager (as if paging were still on): the driver must see through both.
        'show image version': [
          `\x1b[0m${realImages.split('\n').slice(0, 7).join('\n')}\n`,
          realImages.split('\n').slice(7).join('\n'),
        ],
      },
    });
    try {
      const driver = await ControllerDriver.open({
        host: '127.0.0.1',
        port: stub.port,
        hostKey: stub.hostKey,
        username: 'admin',
        password: 'login-pw',
        enablePassword: 'En-pa55',
      });
      try {
        expect(await driver.partitions()).toEqual([
          {
            partition: 0,
            defaultBoot: false,
            running: false,
            version: '8.6.0.16',
            build: 82590,
            signature: 'Digitally Signed SHA1/SHA256 - Production Build',
          },
          {
            partition: 1,
            defaultBoot: true,
            running: false,
            version: '8.10.0.0',
            build: 0,
            signature: 'Digitally Signed SHA1/SHA256 - Developer/Internal Build',
          },
        ]);
        expect(driver.has('image-sha256')).toBe(false);
      } finally {
        driver.close();
      }
      expect(stub.received).toEqual(['no paging', 'show image version']);
    } finally {
      await stub.stop();
    }
  });
});

test('the simulator’s `show image version` has the real layout: labels padded to one colon column, /dev names, Built on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ciu-replay-'));
  const sim = await SimulatedController.start({
    ip: '127.55.0.1',
    model: 'A7210',
    version: '8.6.0.16',
    build: 82590,
    stateDir: dir,
    login: { username: 'admin', password: 'pw' },
  });
  try {
    const session = await DeviceSession.open(
      { host: sim.ip, port: sim.port, hostKey: sim.hostKeyFingerprint, username: 'admin', password: 'pw' },
      dialectFor(),
    );
    let simulated: string;
    try {
      simulated = await session.run('show image version');
    } finally {
      session.close();
    }
    const layout = (text: string) =>
      text
        .split('\n')
        .filter((line) => / : /.test(line))
        .map((line) => [line.slice(0, line.indexOf(' : ') + 3).trimEnd(), line.indexOf(' : ')] as const);
    const realLabels = layout(realImages).slice(0, 5);
    expect(layout(simulated).slice(0, 5)).toEqual(realLabels);
    expect(simulated).toMatch(/^Partition {15}: 0:0 \(\/dev\/usb\/flash1\)/m);
    expect(parseShowImageVersion(simulated)[0]).toMatchObject({
      version: '8.6.0.16',
      build: 82590,
      signature: 'Digitally Signed SHA1/SHA256 - Production Build',
    });
  } finally {
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a controller that floods fails the command once past the bound, instead of growing the worker', async () => {
  const line = `${'x'.repeat(1023)}\n`;
  const stub = await replayServer({
    userPrompt: '(Aruba7210) #',
    enablePrompt: '(Aruba7210) #',
    enablePassword: 'unused',
    replies: { 'no paging': [''], 'show version': [line.repeat(6 * 1024)] },
  });
  try {
    const session = await DeviceSession.open(
      { host: '127.0.0.1', port: stub.port, hostKey: stub.hostKey, username: 'admin', password: 'pw' },
      dialectFor(),
    );
    try {
      const err = await session.run('show version').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({
        name: 'DeviceError',
        failureType: 'UnexpectedControllerReply',
        message: `controller 127.0.0.1:${stub.port} printed more than 4194304 characters during "show version"`,
      });
    } finally {
      session.close();
    }
  } finally {
    await stub.stop();
  }
});

test('a controller whose `show version` carries an escape sequence in the version fails inspectController; nothing of it is stored or echoed raw', async () => {
  const stub = await replayServer({
    userPrompt: '(Aruba7210) #',
    enablePrompt: '(Aruba7210) #',
    enablePassword: 'unused',
    replies: {
      'no paging': [''],
      'show version': [
        // A C1 OSC (U+009D, a one-character ESC ]) setting the operator's terminal title.
        'ArubaOS (MODEL: Aruba7210-US), Version 6.4\u009d0;owned\u0007\nCompiled on 2013-10-08 (build 40360) by p4build\n',
      ],
      'show image version': [realImages],
    },
  });
  try {
    const { inspectController } = createControllerActivities({
      credentials: staticCredentialStore({
        admin: {
          username: 'admin',
          password: 'pw',
          allow: {
            purpose: 'controller-login',
            hosts: ['127.0.0.1'],
            ports: [stub.port],
            protocols: ['ssh'],
            hostKeys: [stub.hostKey],
          },
        },
      }),
      logger: pino({ level: 'silent' }),
    });
    const err = await failure(
      activityEnvironment().run(inspectController, {
        ip: '127.0.0.1',
        model: 'A7210' as const,
        role: 'local' as const,
        ssh: { host: '127.0.0.1', port: stub.port, hostKey: stub.hostKey },
        credentialsRef: 'admin',
      }),
    );
    expect(err.type).toBe(failureTypes.unexpectedControllerReply);
    expect(err.message).toBe(
      'unexpected reply to "show version": version "6.40;owned" is not a version like 6.4.0.0',
    );
    // eslint-disable-next-line no-control-regex
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  } finally {
    await stub.stop();
  }
});
