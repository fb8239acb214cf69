import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// docker-compose.yml and its TLS overlay through a real compose implementation's own parser (Debian's
// docker-compose; `config` needs no engine), with empty stand-ins for the secrets it mounts.
const root = join(__dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ciu-compose-'));
  cpSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
  cpSync(join(root, 'deploy'), join(dir, 'deploy'), { recursive: true });
  mkdirSync(join(dir, 'secrets/tls'), { recursive: true });
  for (const file of ['postgres-password', 'credentials.yaml', 'known_hosts'])
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

  it('refuses a broken file, so a pass means something', () => {
    writeFileSync(join(dir, 'broken.yml'), 'services:\n  x:\n    depends_on: 7\n');
    expect(() => config('broken.yml')).toThrow();
  });
});
