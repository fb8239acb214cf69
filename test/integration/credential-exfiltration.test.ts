/**
 * The two exfiltrations of issue 12, replayed against the activities: a workflow input that names a
 * listener of the attacker's — as image server, or as the controller itself — together with a real
 * credential. The worker's credential store must refuse before a single byte of the secret leaves.
 */
import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { Server as SshServer, utils } from 'ssh2';
import { createControllerActivities } from '../../activities/controller';
import { createImageActivities } from '../../activities/verify-image';
import { freePort } from '../../devkit/temporal/free-port';
import { staticCredentialStore, type StoredCredentials } from '../../src/credentials/store';
import { failureTypes } from '../../src/domain/errors';
import type { Controller } from '../../src/domain/types';
import { hostKeyFingerprint } from '../../src/transfer/host-key';
import { activityEnvironment, failure } from '../fixtures/activity-env';

const adminPassword = 'Admin-canary-7f3a';
const imagePassword = 'Image-canary-91bd';
const attackerHost = '127.66.0.9';

const admin: StoredCredentials = {
  username: 'admin',
  password: adminPassword,
  allow: { purpose: 'controller-login', hosts: ['127.52.0.0/24'], ports: [22], protocols: ['ssh'] },
};
const images: StoredCredentials = {
  username: 'images',
  password: imagePassword,
  allow: {
    purpose: 'image-server',
    hosts: ['127.53.0.1'],
    ports: [2121],
    protocols: ['ftp'],
    allowPlaintext: true,
  },
};
const credentials = staticCredentialStore({ controllers: admin, 'image-ftp': images });
const logger = pino({ level: 'silent' });

/** Everything any client sent the attacker's listeners. */
let received = '';
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  received = '';
  for (const close of closers.splice(0)) await close();
});

/** A fake FTP server on the attacker's loopback address that writes down USER and PASS. */
async function ftpListener(): Promise<number> {
  const port = await freePort(attackerHost);
  const server: Server = createServer((socket: Socket) => {
    socket.write('220 welcome\r\n');
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      const line = chunk.toString();
      socket.write(line.startsWith('USER') ? '331 password please\r\n' : '530 no\r\n');
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, attackerHost, resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return port;
}

/** An SSH server of the attacker's that records every login attempt, and its own host key. */
async function sshListener(): Promise<{ port: number; hostKey: string }> {
  const key = utils.generateKeyPairSync('ed25519');
  const parsed = utils.parseKey(key.private);
  if (parsed instanceof Error) throw parsed;
  const port = await freePort(attackerHost);
  const server = new SshServer({ hostKeys: [key.private] }, (client) => {
    client.on('authentication', (ctx) => {
      received += `${ctx.username} ${ctx.method} ${ctx.method === 'password' ? ctx.password : ''}\n`;
      ctx.reject();
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, attackerHost, resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { port, hostKey: hostKeyFingerprint(parsed.getPublicSSH()) };
}

test('verifyImage with the attacker’s listener as image server and the controllers’ admin credential: refused, nothing sent', async () => {
  const port = await ftpListener();
  const verify = createImageActivities({ credentials, logger, timeoutMs: 3000 }).verifyImage;
  const input = {
    source: {
      imageFile: 'ArubaOS_72xx_6.5.1.0_1',
      protocol: 'ftp' as const,
      server: { host: attackerHost, port },
    },
    models: ['A7210'],
  };
  const withAdmin = await failure(
    activityEnvironment().run(verify, {
      ...input,
      source: { ...input.source, credentialsRef: 'controllers' },
    }),
  );
  expect(received).toBe('');
  expect(withAdmin.type).toBe(failureTypes.credentialsNotAllowed);
  expect(withAdmin.nonRetryable).toBe(true);
  expect(withAdmin.message).toContain(
    'credentials "controllers" may not be used here: it is for controller-login, not image-server (allow.purpose',
  );

  const withImages = await failure(
    activityEnvironment().run(verify, { ...input, source: { ...input.source, credentialsRef: 'image-ftp' } }),
  );
  expect(withImages.type).toBe(failureTypes.credentialsNotAllowed);
  expect(withImages.message).toContain(`host ${attackerHost} is not allowed (allow.hosts`);
  for (const message of [withAdmin.message, withImages.message]) {
    expect(message).not.toContain(adminPassword);
    expect(message).not.toContain(imagePassword);
  }
  expect(received).toBe('');
});

test('a controller activity called directly with ssh.host = attacker and the attacker’s own host key pinned: refused, no login attempt', async () => {
  const attacker = await sshListener();
  const controller: Controller = {
    ip: attackerHost,
    model: 'A7210',
    role: 'local',
    ssh: { host: attackerHost, port: attacker.port, hostKey: attacker.hostKey },
    credentialsRef: 'controllers',
  };
  const activities = createControllerActivities({ credentials, logger, timeouts: { connectMs: 3000 } });
  const err = await failure(activityEnvironment().run(activities.inspectController, controller));
  expect(received).toBe('');
  expect(err.type).toBe(failureTypes.credentialsNotAllowed);
  expect(err.nonRetryable).toBe(true);
  expect(err.message).toContain(
    `credentials "controllers" may not be used here: host ${attackerHost} is not allowed`,
  );

  // Even on an allowed address, a key the worker does not already trust is not made trusted by the input.
  const allowedHere = staticCredentialStore({
    controllers: { ...admin, allow: { ...admin.allow, hosts: [attackerHost], ports: [attacker.port] } },
  });
  const pinned = await failure(
    activityEnvironment().run(
      createControllerActivities({ credentials: allowedHere, logger, timeouts: { connectMs: 3000 } })
        .inspectController,
      controller,
    ),
  );
  expect(pinned.type).toBe(failureTypes.credentialsNotAllowed);
  expect(pinned.message).toContain('a key pinned in workflow input alone is not trusted');
  expect(received).toBe('');
});

test('downloadImage pointing the controller at the attacker with the admin credential as image login: refused', async () => {
  const activities = createControllerActivities({ credentials, logger, timeouts: { connectMs: 3000 } });
  const controller: Controller = {
    ip: '127.52.0.1',
    model: 'A7210',
    role: 'local',
    ssh: { host: '127.52.0.1', port: 22 },
    credentialsRef: 'controllers',
  };
  const err = await failure(
    activityEnvironment().run(activities.downloadImage, {
      controller,
      source: {
        imageFile: 'ArubaOS_72xx_6.5.1.0_1',
        protocol: 'ftp' as const,
        server: { host: attackerHost, port: 2121 },
        credentialsRef: 'controllers',
      },
      partition: 1 as const,
      campaign: 'c',
      attempt: 1,
    }),
  );
  expect(err.type).toBe(failureTypes.credentialsNotAllowed);
  expect(err.message).toContain('it is for controller-login, not image-server');
});
