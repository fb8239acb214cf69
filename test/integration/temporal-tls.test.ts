import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { CampaignStatus } from '../../src/domain/status';
import type { DevServer } from '../../devkit/temporal/dev-server';
import { writeTestMessageKeys, type CommandResult } from '../fixtures/processes';
import { startTestDevServer } from '../fixtures/temporal';
import {
  makeTestPki,
  proxyServerName,
  startGrpcTlsProxy,
  type GrpcTlsProxy,
  type TestPki,
} from '../fixtures/grpc-tls-proxy';

// Secured access for real: Debian's nginx terminates TLS in front of the dev server and proxies gRPC
// (grpc_pass). One port verifies client certificates against the test CA (ssl_verify_client on); the
// other admits only calls carrying `authorization: Bearer <key>`. The worker (`ciu worker`, its own
// process) and `ciu` reach Temporal only through it. The dev server itself checks no API key: what
// the API-key case proves is that both send the key on every call, as Temporal Cloud expects.

const root = join(__dirname, '../..');
const apiKey = 'ciu-test-key-7c1f3a9e5b';
const campaign = 'tls-it';

let dev: DevServer;
let pki: TestPki;
let proxy: GrpcTlsProxy;
let dir: string;
let configDir: string;
let credentialsFile: string;

function ciu(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/ciu.js'), '--config-dir', configDir, ...args],
      { env: { PATH: process.env.PATH, HOME: dir, CIU_LOG_LEVEL: 'silent', ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `ciu worker` in its own process; resolves once it polls, or with its exit and output if it cannot. */
interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

function startWorker(args: string[], env: NodeJS.ProcessEnv): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(root, 'bin/ciu.js'), 'worker', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      CIU_CREDENTIALS_FILE: credentialsFile,
      CIU_MESSAGE_KEYS: writeTestMessageKeys(join(dir, 'message-keys.json')),
      CIU_LOG_LEVEL: 'info',
      CIU_SHUTDOWN_GRACE: '1s',
      CIU_SHUTDOWN_FORCE: '3s',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const worker: WorkerProcess = {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ciu worker neither polled nor exited in 60 s:\n${output}`));
    }, 60_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"worker polling"')) {
        clearTimeout(timer);
        resolve(worker);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(worker);
    });
  });
}

/** The overlay's ciu-worker variables, with its /run/secrets/<name> files mapped onto the test PKI. */
function composeOverlayWorkerEnv(): Record<string, string> {
  const overlay = parseYaml(readFileSync(join(root, 'deploy/compose/tls.yml'), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  const secrets: Record<string, string> = {
    '/run/secrets/tls-ca': pki.ca,
    '/run/secrets/tls-client-cert': pki.clientCert,
    '/run/secrets/tls-client-key': pki.clientKey,
  };
  return Object.fromEntries(
    Object.entries(overlay.services['ciu-worker']?.environment ?? {}).map(([name, value]) => [
      name,
      secrets[value] ?? value,
    ]),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ciu-tls-it-'));
  configDir = join(dir, 'master');
  credentialsFile = join(dir, 'credentials.json');
  dev = await startTestDevServer();
  pki = await makeTestPki();
  proxy = await startGrpcTlsProxy({ upstream: dev.address, pki, apiKey });
  // Nothing listens on the image server (127.81/16 is this file's): the campaign stays verifying, and
  // only a worker can answer its status query, so an answer proves the worker's connection too.
  const imageServer = { host: '127.81.0.21', port: 21 };
  mkdirSync(configDir);
  writeFileSync(
    join(configDir, 'config.yaml'),
    stringifyYaml({
      campaign,
      inventory: [
        {
          ip: '127.81.1.1',
          model: 'A7210',
          role: 'local',
          ssh: { host: '127.81.1.1', port: 22 },
          credentialsRef: 'controllers',
        },
      ],
      profile: {
        models: {
          A7210: {
            imageFile: 'ArubaOS_72xx_6.5.1.0_66000',
            server: imageServer,
            protocol: 'ftp',
            credentialsRef: 'images',
          },
        },
        autoboot: true,
        maxDownloads: 1,
      },
      targets: ['127.81.1.0/24'],
    }),
  );
  writeFileSync(
    credentialsFile,
    JSON.stringify({
      images: {
        username: 'ftp',
        password: 'tls-it',
        allow: {
          purpose: 'image-server',
          hosts: [imageServer.host],
          protocols: ['ftp'],
          allowPlaintext: true,
        },
      },
    }),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await proxy?.stop();
  await dev?.stop();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mTLS through nginx (ssl_verify_client on)', () => {
  const clientCert = () => ['--tls-cert', pki.clientCert, '--tls-key', pki.clientKey];
  const serverTrust = () => [
    '--address',
    proxy.mtlsAddress,
    '--tls-ca',
    pki.ca,
    '--tls-server-name',
    proxyServerName,
  ];

  it('the worker (with the compose overlay variables) and ciu connect with a client certificate', async () => {
    const worker = await startWorker([], {
      ...composeOverlayWorkerEnv(),
      TEMPORAL_ADDRESS: proxy.mtlsAddress,
    });
    try {
      expect(worker.child.exitCode).toBeNull();
      const polling = JSON.parse(
        worker
          .output()
          .split('\n')
          .find((l) => l.includes('"worker polling"')) ?? '{}',
      );
      expect(polling).toMatchObject({ address: proxy.mtlsAddress, tls: 'mtls', apiKey: false });

      const written = await ciu([...serverTrust(), ...clientCert(), 'write', 'memory']);
      expect(written).toMatchObject({
        code: 0,
        stdout: expect.stringContaining(`Campaign ${campaign} started`),
      });

      const shown = await ciu([...serverTrust(), ...clientCert(), 'show', 'upgrade', 'status', '--json']);
      expect(shown.code).toBe(0);
      const status = JSON.parse(shown.stdout) as CampaignStatus;
      expect(status).toMatchObject({ campaign, phase: 'verifying' });
      expect(status.controllers.map((c) => c.ip)).toEqual(['127.81.1.1']);
    } finally {
      await worker.stop();
    }
    // nginx saw the calls, with the client certificate's subject.
    expect(proxy.accessLog()).toMatch(
      new RegExp(`^${proxy.mtlsAddress.split(':')[1]} 200 "CN=client" `, 'm'),
    );
  });

  it.each([
    ['no client certificate', () => [] as string[]],
    [
      'a certificate from a foreign CA',
      () => ['--tls-cert', pki.foreignClientCert, '--tls-key', pki.foreignClientKey],
    ],
  ])('with %s, ciu and the worker are refused, saying so', async (_case, cert) => {
    const shown = await ciu([
      ...serverTrust(),
      ...cert(),
      'show',
      'upgrade',
      'status',
      '--campaign',
      campaign,
    ]);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(
      new RegExp(
        `^ciu: Temporal at ${proxy.mtlsAddress} refused the connection: client certificate missing or not trusted \\(UNAUTHENTICATED\\) \\(namespace default, m?TLS; check the client certificate --tls-cert/--tls-key`,
      ),
    );
    const worker = await startWorker([...serverTrust(), ...cert()], {});
    expect(worker.child.exitCode).toBe(1);
    expect(worker.output()).toContain(
      `ciu: Temporal at ${proxy.mtlsAddress} refused the connection: client certificate missing or not trusted (UNAUTHENTICATED)`,
    );
  });

  it('without --tls-server-name the certificate does not match the address, and the worker says why', async () => {
    const worker = await startWorker(
      ['--address', proxy.mtlsAddress, '--tls-ca', pki.ca, ...clientCert()],
      {},
    );
    expect(worker.child.exitCode).toBe(1);
    expect(worker.output()).toMatch(
      new RegExp(
        `cannot reach Temporal at ${proxy.mtlsAddress}: .*NotValidForName.*check --address, --tls-ca and --tls-server-name`,
      ),
    );
  });

  it("a key that is not the certificate's is refused before connecting, naming both settings", async () => {
    const shown = await ciu([
      ...serverTrust(),
      '--tls-cert',
      pki.clientCert,
      '--tls-key',
      pki.foreignClientKey,
      'show',
      'upgrade',
      'status',
    ]);
    expect(shown).toMatchObject({
      code: 2,
      stderr: 'ciu: --tls-key is not the key of the client certificate --tls-cert\n',
    });
  });
});

describe('API key through nginx (Authorization header checked)', () => {
  it('the worker (TEMPORAL_API_KEY) and ciu (a TOML profile) send it on every call; a wrong or missing key is refused', async () => {
    const profileFile = join(dir, 'temporal.toml');
    writeFileSync(
      profileFile,
      `[profile.gateway]
address = "${proxy.apiKeyAddress}"
api_key = "${apiKey}"

[profile.gateway.tls]
server_ca_cert_path = "${pki.ca}"
server_name = "${proxyServerName}"
`,
      { mode: 0o600 },
    );
    const viaProfile = { TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: 'gateway' };
    const worker = await startWorker([], {
      TEMPORAL_ADDRESS: proxy.apiKeyAddress,
      TEMPORAL_API_KEY: apiKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.ca,
      TEMPORAL_TLS_SERVER_NAME: proxyServerName,
    });
    try {
      expect(worker.child.exitCode).toBeNull();
      // The mTLS worker is gone: only this one can answer the status query.
      const shown = await ciu(['show', 'upgrade', 'status', '--campaign', campaign, '--json'], viaProfile);
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({ campaign, phase: 'verifying' });

      const wrong = await ciu(['show', 'upgrade', 'status', '--campaign', campaign], {
        ...viaProfile,
        TEMPORAL_API_KEY: 'not-the-key',
      });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(
        new RegExp(
          `^ciu: Temporal at ${proxy.apiKeyAddress} refused the connection: API key missing or wrong \\(UNAUTHENTICATED\\) \\(namespace default, TLS, API key, profile gateway;`,
        ),
      );
      expect(wrong.stderr).not.toContain('not-the-key');

      const none = await ciu([
        '--address',
        proxy.apiKeyAddress,
        '--tls-ca',
        pki.ca,
        '--tls-server-name',
        proxyServerName,
        'show',
        'upgrade',
        'status',
        '--campaign',
        campaign,
      ]);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('API key missing or wrong (UNAUTHENTICATED)');
    } finally {
      await worker.stop();
    }
    expect(worker.output()).not.toContain(apiKey);
    expect(worker.output()).not.toContain('PRIVATE KEY');
    const port = proxy.apiKeyAddress.split(':')[1];
    const calls = proxy
      .accessLog()
      .split('\n')
      .filter((line) => line.startsWith(`${port} `))
      .map((line) => ({ status: line.split(' ')[1], key: line.split(' ').at(-1) }));
    // Every call let through (the worker's polls, ciu's query) carried the key; the ones without it
    // (wrong, none) were refused.
    const admitted = calls.filter((call) => call.status === '200');
    expect(admitted.length).toBeGreaterThan(2);
    expect(new Set(admitted.map((call) => call.key))).toEqual(new Set(['yes']));
    const keyless = calls.filter((call) => call.key === 'no');
    expect(keyless.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keyless.map((call) => call.status))).toEqual(new Set(['204']));
  });
});
