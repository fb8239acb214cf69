import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ciuSearchAttributes } from '../../src/domain/search-attributes';
import { settingVariables } from '../../src/settings';

// docker-compose.yml cannot run here (no Docker); these checks keep it in step with the code.
interface Service {
  image?: string;
  build?: string;
  command?: string[];
  secrets?: string[];
  entrypoint?: string | string[];
  environment?: Record<string, string>;
  ports?: string[];
}
const compose = parseYaml(readFileSync(join(__dirname, '../../docker-compose.yml'), 'utf8'), {
  merge: true,
}) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('runs temporalio/server on PostgreSQL, schemas by an admin-tools job, the Web UI and a ciu worker', () => {
    const { services } = compose;
    expect(services.postgresql?.image).toMatch(/^postgres:/);
    expect(services.temporal?.image).toMatch(/^temporalio\/server:/);
    expect(services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services['temporal-schema']?.image).toMatch(/^temporalio\/admin-tools:/);
    expect([services['temporal-schema']?.entrypoint].flat().join(' ')).toContain('update-schema');
    expect(Object.values(services).map((s) => s.image)).not.toContain(expect.stringMatching(/auto-setup/));
    expect(services['temporal-ui']?.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(services['ciu-worker']).toMatchObject({
      build: '.',
      environment: { TEMPORAL_ADDRESS: 'temporal:7233' },
    });
  });

  it('gives the worker and the codec server only variables they read; their key files are mounted secrets', () => {
    const { services } = compose;
    const worker = services['ciu-worker'];
    const codec = services['ciu-codec-server'];
    for (const name of [...Object.keys(worker?.environment ?? {}), ...Object.keys(codec?.environment ?? {})])
      expect(Object.keys(settingVariables)).toContain(name);
    expect(worker?.environment).toMatchObject({
      CIU_MESSAGE_KEYS: '/run/secrets/ciu-message-keys',
      CIU_PAYLOAD_KEYS: '/run/secrets/ciu-payload-keys',
    });
    expect(worker?.secrets).toEqual(expect.arrayContaining(['ciu-message-keys', 'ciu-payload-keys']));
    expect(codec).toMatchObject({ build: '.', secrets: ['ciu-payload-keys'] });
    expect(codec?.command?.slice(0, 1)).toEqual(['codec-server']);
    expect(services['temporal-ui']?.environment?.TEMPORAL_CODEC_ENDPOINT).toContain('http://127.0.0.1:8888');
  });

  it('registers exactly the search attributes the workflows write', () => {
    const script = [compose.services['temporal-search-attributes']?.entrypoint ?? []].flat().join(' ');
    const registered = [...script.matchAll(/--name (\w+) --type (\w+)/g)].map(([, name, type]) => [
      name,
      type,
    ]);
    expect(Object.fromEntries(registered)).toEqual(ciuSearchAttributes);
  });

  it('pins every image by version', () => {
    for (const { image } of Object.values(compose.services).filter((s) => s.image))
      expect(image).toMatch(/^[\w./-]+:\d+(\.\d+)+$/);
  });

  it('publishes ports on loopback only', () => {
    const published = Object.values(compose.services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:/);
  });
});

describe('deploy/compose/tls.yml (the TLS overlay)', () => {
  const overlay = parseYaml(readFileSync(join(__dirname, '../../deploy/compose/tls.yml'), 'utf8')) as {
    services: Record<string, Service>;
  };

  it('gives the workers only variables they read, and all of mTLS', () => {
    const worker = {
      ...compose.services['ciu-worker']?.environment,
      ...overlay.services['ciu-worker']?.environment,
    };
    for (const name of Object.keys(worker)) expect(Object.keys(settingVariables)).toContain(name);
    expect(worker).toMatchObject({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/run/secrets/tls-ca',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/run/secrets/tls-client-cert',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/run/secrets/tls-client-key',
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
    });
  });
});

describe('Dockerfile (the worker image)', () => {
  const dockerfile = readFileSync(join(__dirname, '../../Dockerfile'), 'utf8');
  const dockerignore = readFileSync(join(__dirname, '../../.dockerignore'), 'utf8');

  it('copies no dev kit (simulator, image-server launchers, demo) into the image', () => {
    const copied = [...dockerfile.matchAll(/^COPY\s+(.+?)\s+\S+$/gm)].flatMap(([, from]) =>
      from!.split(/\s+/),
    );
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) expect(source).not.toMatch(/^(\.|devkit)(\/|$)/);
    expect(dockerignore.split('\n')).toContain('devkit');
  });
});
