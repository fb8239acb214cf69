/**
 * `ciu inventory discover`: the CLI logs in to a simulated master over real SSH (user mode, enable,
 * no paging), reads its `show switches` and stages its standbys and locals.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../src/cli/program';
import { startFleet, type Fleet } from '../../devkit/simulator/fleet';

let dir: string;
let fleet: Fleet;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ciu-discover-'));
  fleet = await startFleet({
    count: 4,
    subnet: '127.54.0.0/24',
    models: ['A7210', 'A7005'],
    version: '6.4.4.0',
    build: 60000,
    stateDir: join(dir, 'fleet'),
    credentials: { username: 'admin', password: 'Ctl-pa55-word' },
    standbyEvery: 2,
    master: true,
    controller: { aos: 8 },
  });
  await writeFile(join(dir, 'known_hosts'), fleet.knownHosts);
  // The master's login, allowed only for SSH to the simulated fleet's addresses.
  await writeFile(
    join(dir, 'credentials.json'),
    JSON.stringify({
      master: {
        username: 'admin',
        password: 'Ctl-pa55-word',
        allow: { purpose: 'controller-login', hosts: ['127.54.0.0/24'], ports: [22], protocols: ['ssh'] },
      },
    }),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function ciu(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['--config-dir', join(dir, 'config'), ...argv], {
    io: { out: (t) => (out += t), err: (t) => (err += t) },
    env: {
      CIU_KNOWN_HOSTS: join(dir, 'known_hosts'),
      CIU_CREDENTIALS_FILE: join(dir, 'credentials.json'),
    },
  });
  return { code, out, err };
}

test("stages the master's standbys and locals from show switches", async () => {
  const result = await ciu('inventory', 'discover', '127.54.0.1', '--credentials', 'master');
  expect(result).toEqual({
    code: 0,
    out: [
      '127.54.0.2 A7005 standby 6.4.4.0 build 60000 group master-127.54.0.1 standby',
      '127.54.0.3 A7210 local 6.4.4.0 build 60000',
      '127.54.0.4 A7005 standby 6.4.4.0 build 60000 group master-127.54.0.1 standby',
      '3 controllers discovered on 127.54.0.1 (staged; `ciu write memory` commits)',
      '',
    ].join('\n'),
    err: '',
  });
  const staged = parseYaml(await readFile(join(dir, 'config', 'config.yaml'), 'utf8')) as {
    inventory: unknown[];
  };
  expect(staged.inventory).toEqual([
    {
      ip: '127.54.0.2',
      model: 'A7005',
      role: 'standby',
      ssh: { host: '127.54.0.2', port: 22 },
      credentialsRef: 'master',
      group: 'master-127.54.0.1',
      redundancy: 'standby',
    },
    {
      ip: '127.54.0.3',
      model: 'A7210',
      role: 'local',
      ssh: { host: '127.54.0.3', port: 22 },
      credentialsRef: 'master',
    },
    {
      ip: '127.54.0.4',
      model: 'A7005',
      role: 'standby',
      ssh: { host: '127.54.0.4', port: 22 },
      credentialsRef: 'master',
      group: 'master-127.54.0.1',
      redundancy: 'standby',
    },
  ]);
});

test('a controller that is not a master lists only itself: nothing staged', async () => {
  const result = await ciu('inventory', 'discover', '127.54.0.3', '--credentials', 'master');
  expect(result.code).toBe(0);
  expect(result.out).toBe('0 controllers discovered on 127.54.0.3 (staged; `ciu write memory` commits)\n');
});

test('without a login to use, the command says which option is missing', async () => {
  const result = await ciu('inventory', 'discover', '127.54.0.9');
  expect(result.code).toBe(2);
  expect(result.err).toBe(
    "ciu: inventory discover: --credentials must name the master's login (127.54.0.9 is not staged with one)\n",
  );
});
