import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program';
import type { CliContext } from '../../src/cli/context';
import {
  resolveTemporalConnection,
  temporalConnectionFailure,
  TemporalConnectionSettingsError,
} from '../../src/temporal/connection';

// Certificates that must verify are made with openssl in test/integration/temporal-tls.test.ts; here
// only what is decided before any file is trusted: precedence, and refusals that name their setting.
let dir: string;
const apiKey = 'sk-live-3f9a0c7e1b2d4a6f';
const privateKeyPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ciu-connection-'));
  writeFileSync(
    join(dir, 'temporal.toml'),
    `[profile.default]
address = "file.example:7233"
namespace = "from-file"

[profile.cloud]
address = "fleet.a1b2c.tmprl.cloud:7233"
namespace = "fleet.a1b2c"
api_key = "${apiKey}"
`,
  );
  writeFileSync(join(dir, 'broken.toml'), `[profile.default]\napi_key = "${apiKey}\n`);
  writeFileSync(join(dir, 'not-pem.pem'), 'hello\n');
  writeFileSync(join(dir, 'key.pem'), privateKeyPem, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TemporalConnectionSettingsError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('resolveTemporalConnection: where each setting comes from', () => {
  it('defaults to the local dev server, plaintext, namespace default', () => {
    const t = resolveTemporalConnection({}, {});
    expect(t.connectionOptions).toEqual({ address: '127.0.0.1:7233' });
    expect(t.namespace).toBe('default');
    expect(t.summary).toEqual({ address: '127.0.0.1:7233', namespace: 'default', tls: 'off', apiKey: false });
  });

  it('flag over environment over profile file', () => {
    const file = join(dir, 'temporal.toml');
    expect(resolveTemporalConnection({}, { TEMPORAL_CONFIG_FILE: file }).summary).toMatchObject({
      address: 'file.example:7233',
      namespace: 'from-file',
      profile: 'default',
    });
    const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_NAMESPACE: 'from-env' };
    expect(resolveTemporalConnection({}, env).summary).toMatchObject({
      address: 'file.example:7233',
      namespace: 'from-env',
    });
    expect(resolveTemporalConnection({ namespace: 'from-flag' }, env).namespace).toBe('from-flag');
  });

  it('reads the default file ~/.config/temporalio/temporal.toml when it exists', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.config/temporalio'), { recursive: true });
    writeFileSync(join(home, '.config/temporalio/temporal.toml'), '[profile.default]\nnamespace = "home"\n');
    expect(resolveTemporalConnection({}, { HOME: home }).namespace).toBe('home');
    expect(resolveTemporalConnection({}, { HOME: join(dir, 'nobody') }).namespace).toBe('default');
  });

  it('a profile by TEMPORAL_PROFILE or --profile; its API key turns TLS on', () => {
    const env = { TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml'), TEMPORAL_PROFILE: 'cloud' };
    const t = resolveTemporalConnection({}, env);
    expect(t.connectionOptions).toEqual({ address: 'fleet.a1b2c.tmprl.cloud:7233', apiKey, tls: true });
    expect(t.namespace).toBe('fleet.a1b2c');
    expect(t.summary).toEqual({
      address: 'fleet.a1b2c.tmprl.cloud:7233',
      namespace: 'fleet.a1b2c',
      tls: 'tls',
      apiKey: true,
      profile: 'cloud',
    });
    expect(resolveTemporalConnection({ profile: 'default' }, env).namespace).toBe('from-file');
  });

  it('TEMPORAL_TLS=false keeps an API key in plaintext; a TLS flag turns TLS back on', () => {
    const env = { TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS: 'false' };
    expect(resolveTemporalConnection({}, env).connectionOptions).toEqual({
      address: '127.0.0.1:7233',
      apiKey,
      tls: false,
    });
    expect(resolveTemporalConnection({ tls: true }, env).summary.tls).toBe('tls');
  });
});

describe('resolveTemporalConnection: bad settings name their flag, variable or file', () => {
  it('a missing TEMPORAL_CONFIG_FILE', () => {
    expect(
      refusal(() => resolveTemporalConnection({}, { TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })),
    ).toBe(`TEMPORAL_CONFIG_FILE ${join(dir, 'nope.toml')}: no such file`);
  });

  it('an unknown profile, listing the ones there are', () => {
    const env = { TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml') };
    expect(refusal(() => resolveTemporalConnection({ profile: 'prod' }, env))).toBe(
      `--profile prod: ${join(dir, 'temporal.toml')} has no such profile (it has: default, cloud)`,
    );
    expect(refusal(() => resolveTemporalConnection({}, { ...env, TEMPORAL_PROFILE: 'prod' }))).toMatch(
      /^TEMPORAL_PROFILE=prod: /,
    );
    expect(refusal(() => resolveTemporalConnection({ profile: 'prod' }, {}))).toMatch(
      /^--profile prod: no profile file/,
    );
  });

  it('a file that is not TOML: the line, never the text (it may hold the API key)', () => {
    const message = refusal(() =>
      resolveTemporalConnection({}, { TEMPORAL_CONFIG_FILE: join(dir, 'broken.toml') }),
    );
    expect(message).toMatch(/broken\.toml is not valid TOML \(line \d\)$/);
    expect(message).not.toContain(apiKey);
  });

  it('a key without a certificate, and a certificate without a key', () => {
    expect(refusal(() => resolveTemporalConnection({ tlsKey: join(dir, 'key.pem') }, {}))).toBe(
      '--tls-key is set but no client certificate: set --tls-cert or TEMPORAL_TLS_CLIENT_CERT_PATH too',
    );
    expect(
      refusal(() =>
        resolveTemporalConnection({}, { TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'not-pem.pem') }),
      ),
    ).toBe(
      'TEMPORAL_TLS_CLIENT_CERT_PATH is set but no client key: set --tls-key or TEMPORAL_TLS_CLIENT_KEY_PATH too',
    );
  });

  it('a file that is missing or not PEM', () => {
    const missing = join(dir, 'missing.pem');
    expect(refusal(() => resolveTemporalConnection({ tlsCa: missing }, {}))).toBe(
      `--tls-ca ${missing}: no such file`,
    );
    expect(
      refusal(() =>
        resolveTemporalConnection({}, { TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'not-pem.pem') }),
      ),
    ).toBe('TEMPORAL_TLS_SERVER_CA_CERT_PATH is not a PEM certificate');
  });

  it('a client key that does not parse: named, its text never shown', () => {
    const half = privateKeyPem.slice(0, 120);
    writeFileSync(join(dir, 'half.key'), half);
    const message = refusal(() =>
      resolveTemporalConnection(
        {},
        {
          TEMPORAL_TLS_CLIENT_CERT_DATA: 'not a certificate',
          TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'half.key'),
        },
      ),
    );
    expect(message).toBe('TEMPORAL_TLS_CLIENT_CERT_DATA is not a PEM certificate');
    expect(message).not.toContain(half.split('\n')[1]);
  });

  it('an API key with a line break, never echoed', () => {
    const message = refusal(() => resolveTemporalConnection({}, { TEMPORAL_API_KEY: `${apiKey}\n` }));
    expect(message).toBe('TEMPORAL_API_KEY must be printable ASCII without spaces or line breaks');
    expect(refusal(() => resolveTemporalConnection({ apiKey: 'a b' }, {}))).toMatch(/^--api-key /);
  });

  it('TEMPORAL_TLS that is not a boolean, and an address that is a URL', () => {
    expect(refusal(() => resolveTemporalConnection({}, { TEMPORAL_TLS: 'yes' }))).toBe(
      'TEMPORAL_TLS must be 1, true, 0 or false, got "yes"',
    );
    expect(refusal(() => resolveTemporalConnection({ address: 'https://t.example:7233' }, {}))).toBe(
      '--address must be host:port, got "https://t.example:7233"',
    );
  });
});

describe('temporalConnectionFailure', () => {
  const summary = { address: '127.0.0.1:7443', namespace: 'default', tls: 'mtls' as const, apiKey: true };

  it('says a refusal is one and names what to check (client, grpc-js)', () => {
    const err = Object.assign(new Error('Failed to connect to Temporal server'), {
      cause: Object.assign(new Error('16 UNAUTHENTICATED: no cert'), { code: 16, details: 'no cert' }),
    });
    expect(temporalConnectionFailure(summary, err)).toBe(
      'Temporal at 127.0.0.1:7443 refused the connection: no cert (UNAUTHENTICATED) (namespace default, mTLS, API key; check the client certificate --tls-cert/--tls-key or TEMPORAL_TLS_CLIENT_CERT_PATH/_KEY_PATH, and the API key --api-key or TEMPORAL_API_KEY)',
    );
  });

  it('reads the same from the worker (core) error text', () => {
    const err = new Error(
      `Failed to call GetSystemInfo: code: 'The request does not have valid authentication credentials', message: "API key missing or wrong"`,
    );
    expect(temporalConnectionFailure(summary, err)).toMatch(
      /^Temporal at 127\.0\.0\.1:7443 refused the connection: API key missing or wrong \(UNAUTHENTICATED\)/,
    );
  });

  it('anything else cannot reach, with a TLS hint when TLS is on', () => {
    expect(temporalConnectionFailure(summary, new Error('Failed to connect before the deadline'))).toBe(
      'cannot reach Temporal at 127.0.0.1:7443: Failed to connect before the deadline (namespace default, mTLS, API key; a failed TLS handshake looks like this too: check --address, --tls-ca and --tls-server-name)',
    );
  });
});

describe('ciu refuses bad connection settings before connecting', () => {
  function capture(env: NodeJS.ProcessEnv): CliContext & { stderr: () => string } {
    let err = '';
    return { io: { out: () => undefined, err: (s) => void (err += s) }, env, stderr: () => err };
  }

  it('exits 2 naming the flag; the API key never appears', async () => {
    const ctx = capture({ CIU_HOME: join(dir, 'ciu'), TEMPORAL_API_KEY: apiKey });
    const code = await runCli(
      ['--tls-key', join(dir, 'key.pem'), 'show', 'upgrade', 'status', '--campaign', 'c'],
      ctx,
    );
    expect(code).toBe(2);
    expect(ctx.stderr()).toBe(
      'ciu: --tls-key is set but no client certificate: set --tls-cert or TEMPORAL_TLS_CLIENT_CERT_PATH too\n',
    );
  });

  it('commands that never reach Temporal ignore the connection settings', async () => {
    const ctx = capture({ CIU_HOME: join(dir, 'ciu'), TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') });
    expect(await runCli(['upgrade', 'target', 'add', '10.1.4.0/24'], ctx)).toBe(0);
  });
});
