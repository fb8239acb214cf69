import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

// docker-compose.yml and its TLS overlay through a real compose implementation's own parser (Debian's
// docker-compose; `config` needs no engine), with empty stand-ins for the secrets it mounts.
const root = join(__dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ciu-compose-'));
  cpSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
  cpSync(join(root, 'deploy'), join(dir, 'deploy'), { recursive: true });
  mkdirSync(join(dir, 'secrets/tls'), { recursive: true });
  for (const file of [
    'postgres-password',
    'credentials.yaml',
    'known_hosts',
    'message-keys.yaml',
    'payload-keys.yaml',
    'image-signer.pub',
  ])
    writeFileSync(join(dir, 'secrets', file), '');
  for (const file of ['ca.pem', 'server.pem', 'server.key', 'client.pem', 'client.key'])
    writeFileSync(join(dir, 'secrets/tls', file), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(...files: string[]): string {
  return execFileSync('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config'], {
    cwd: dir,
    encoding: 'utf8',
  });
}

describe('docker-compose config', () => {
  it('accepts docker-compose.yml and resolves the shared Temporal database settings', () => {
    const resolved = config('docker-compose.yml');
    expect(resolved).toContain('image: temporalio/server:');
    expect(resolved).toMatch(/temporal:\n(?:.*\n)*?\s+POSTGRES_SEEDS: postgresql/);
  });

  it('accepts the TLS overlay on top of it', () => {
    const resolved = config('docker-compose.yml', 'deploy/compose/tls.yml');
    expect(resolved).toContain('TEMPORAL_TLS_REQUIRE_CLIENT_AUTH');
    expect(resolved).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH: /run/secrets/tls-client-cert');
  });

  it("mounts every secret file a service's environment names, and wires the Web UI to the codec server", () => {
    interface Resolved {
      services: Record<
        string,
        {
          command?: string[];
          environment?: Record<string, string>;
          ports?: string[];
          secrets?: Array<{ source: string }>;
        }
      >;
      secrets: Record<string, { file: string }>;
    }
    const resolved = parseYaml(config('docker-compose.yml')) as Resolved;
    const mounted = (service: string) => (resolved.services[service]?.secrets ?? []).map((s) => s.source);
    for (const [name, service] of Object.entries(resolved.services))
      for (const value of Object.values(service.environment ?? {})) {
        const secret = /^\/run\/secrets\/(.+)$/.exec(value)?.[1];
        if (secret)
          expect({ name, secret, mounted: mounted(name).includes(secret) }).toEqual({
            name,
            secret,
            mounted: true,
          });
      }
    const worker = resolved.services['ciu-worker']?.environment ?? {};
    expect(worker).toMatchObject({
      CIU_CREDENTIALS_FILE: '/run/secrets/ciu-credentials',
      CIU_MESSAGE_KEYS: '/run/secrets/ciu-message-keys',
      CIU_PAYLOAD_KEYS: '/run/secrets/ciu-payload-keys',
      CIU_IMAGE_KEYS: '/run/secrets/ciu-image-keys',
    });
    expect(resolved.secrets['ciu-payload-keys']?.file).toBe(join(dir, 'secrets/payload-keys.yaml'));

    // The codec server decodes with the workers' payload keys, never holds their message keys, and
    // answers the browser that shows the Web UI on the address the UI is told.
    const codec = resolved.services['ciu-codec-server'];
    expect(codec?.command?.[0]).toBe('codec-server');
    expect(codec?.environment).toEqual({ CIU_PAYLOAD_KEYS: '/run/secrets/ciu-payload-keys' });
    expect(mounted('ciu-codec-server')).toEqual(['ciu-payload-keys']);
    const ui = resolved.services['temporal-ui'];
    expect(ui?.environment?.TEMPORAL_CODEC_ENDPOINT).toBe('http://127.0.0.1:8888');
    expect(codec?.ports).toEqual(['127.0.0.1:8888:8888/tcp']);
    const listens = codec?.command?.[(codec.command.indexOf('--port') ?? -1) + 1];
    expect(listens).toBe('8888');
    const uiOrigin = `http://${/^(127\.0\.0\.1):(\d+):/
      .exec(ui?.ports?.[0] ?? '')
      ?.slice(1, 3)
      .join(':')}`;
    expect(uiOrigin).toBe('http://127.0.0.1:8080');
    expect(codec?.command).toContain(uiOrigin);
  });

  it('refuses a broken file, so a pass means something', () => {
    writeFileSync(join(dir, 'broken.yml'), 'services:\n  x:\n    depends_on: 7\n');
    expect(() => config('broken.yml')).toThrow();
  });
});
