import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateStaged } from '../../src/cli/validate-staged';
import { emptyConfig, loadStaged, saveStaged, stagedFile } from '../../src/cli/config-file';
import { UsageError } from '../../src/cli/exit-codes';
import {
  addController,
  addTarget,
  removeTarget,
  setAllowUnsigned,
  setModelImage,
  setPartition,
  setQuickTries,
  setRebootTimeout,
  setRetryInterval,
  upsertControllers,
} from '../../src/cli/staging';

const hostKey = 'SHA256:' + 'A'.repeat(43);

function stagedFleet() {
  let config = emptyConfig();
  config = setModelImage(config, 'A7210', [
    'image-file',
    'ArubaOS_72xx_6.5.1.0_100',
    'server',
    '127.0.0.1:21',
    'protocol',
    'ftp',
    'credentials',
    'image-ftp',
    'version',
    '6.5.1.0',
    'build',
    '100',
  ]);
  config = addController(config, '127.20.1.10', [
    'model',
    'A7210',
    'role',
    'local',
    'credentials',
    'admin',
    'host-key',
    hostKey,
  ]);
  return addTarget(config, '127.20.1.0/24');
}

function usageIssues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return [...(err as UsageError).issues, (err as UsageError).message];
  }
  throw new Error('expected a UsageError');
}

describe('staging edits', () => {
  it('builds a profile entry from ArubaOS-style keyword pairs', () => {
    const config = stagedFleet();
    expect(config.profile.models.A7210).toEqual({
      imageFile: 'ArubaOS_72xx_6.5.1.0_100',
      server: { host: '127.0.0.1', port: 21 },
      protocol: 'ftp',
      credentialsRef: 'image-ftp',
      expectedVersion: '6.5.1.0',
      expectedBuild: 100,
    });
    expect(config.inventory).toEqual([
      {
        ip: '127.20.1.10',
        model: 'A7210',
        role: 'local',
        ssh: { host: '127.20.1.10', port: 22, hostKey },
        credentialsRef: 'admin',
      },
    ]);
  });

  it('patches an existing model entry instead of replacing it', () => {
    const config = setModelImage(stagedFleet(), 'A7210', ['version', '6.5.2.0']);
    expect(config.profile.models.A7210).toMatchObject({
      imageFile: 'ArubaOS_72xx_6.5.1.0_100',
      expectedVersion: '6.5.2.0',
    });
  });

  it('refuses bad arguments naming the field', () => {
    expect(usageIssues(() => setModelImage(emptyConfig(), 'A9999', []))[0]).toMatch(
      /model "A9999" is not a known controller model/,
    );
    expect(usageIssues(() => setModelImage(emptyConfig(), 'A7210', ['protocol', 'gopher']))[0]).toMatch(
      /profile\.models\.A7210\.protocol must be one of ftp/,
    );
    expect(usageIssues(() => setModelImage(emptyConfig(), 'A7210', ['server', 'host:99999']))[0]).toMatch(
      /profile\.models\.A7210\.server\.port must be <= 65535/,
    );
    expect(usageIssues(() => setModelImage(emptyConfig(), 'A7210', ['colour', 'red']))[0]).toMatch(
      /unknown keyword "colour"/,
    );
    expect(usageIssues(() => setModelImage(emptyConfig(), 'A7210', ['image-file']))[0]).toMatch(
      /image-file needs a value/,
    );
    expect(usageIssues(() => setRetryInterval(emptyConfig(), 'soon'))[0]).toMatch(
      /profile\.retryInterval must be a duration/,
    );
    expect(usageIssues(() => addTarget(emptyConfig(), '10.1.1'))[0]).toMatch(
      /^target "10\.1\.1" is not an IPv4 address or CIDR subnet/,
    );
    expect(
      usageIssues(() =>
        addController(emptyConfig(), '127.20.1.10', ['model', 'A7210', 'role', 'master', 'credentials', 'a']),
      )[0],
    ).toMatch(/inventory\[127\.20\.1\.10\]\.role must be 'local' or 'standby'/);
  });

  it('inventory add takes a redundancy group and role; a bad role is refused naming the field', () => {
    const words = ['model', 'A7210', 'role', 'local', 'credentials', 'a', 'group', 'hq-pair'];
    const config = addController(emptyConfig(), '127.20.1.11', [...words, 'redundancy', 'standby']);
    expect(config.inventory[0]).toMatchObject({ group: 'hq-pair', redundancy: 'standby' });
    expect(
      usageIssues(() => addController(emptyConfig(), '127.20.1.11', [...words, 'redundancy', 'primary']))[0],
    ).toBe('inventory[127.20.1.11].redundancy must be one of active, standby');
  });

  // The staging commands use the domain's rule for each value, not a looser copy of their own.
  it.each([
    [['image-file', 'images/.hidden'], /^profile\.models\.A7210\.imageFile must be a file name: /],
    [['image-file', 'x'.repeat(130)], /^profile\.models\.A7210\.imageFile must be a file name/],
    [['server', 'bad_host:21'], /^profile\.models\.A7210\.server\.host must be an IPv4 address or host name/],
    [['server', '10.1.4.256'], /^profile\.models\.A7210\.server\.host must be an IPv4 address or host name/],
    [['credentials', 'a b'], /^profile\.models\.A7210\.credentialsRef must be a credentials reference name/],
    [['version', '6.5 beta'], /^profile\.models\.A7210\.expectedVersion must be a version like 6\.4\.0\.0/],
    [['host-key', 'MD5:aa'], /^profile\.models\.A7210\.server\.hostKey must be a host-key fingerprint/],
  ])('upgrade-profile model A7210 %j is refused by the domain rule', (words, message) => {
    expect(usageIssues(() => setModelImage(emptyConfig(), 'A7210', words))[0]).toMatch(message);
  });

  it('profile settings use the domain limits', () => {
    expect(usageIssues(() => setQuickTries(emptyConfig(), '101'))[0]).toBe(
      'profile.quickTries must be <= 100',
    );
    expect(usageIssues(() => setRetryInterval(emptyConfig(), '10ms'))[0]).toBe(
      "profile.retryInterval must be a duration of at least 1s and at most 365d ('15m', '30s', '2h')",
    );
    expect(usageIssues(() => setRetryInterval(emptyConfig(), '99999999999999999999999d'))[0]).toBe(
      "profile.retryInterval must be a duration of at least 1s and at most 365d ('15m', '30s', '2h')",
    );
    expect(usageIssues(() => setRebootTimeout(emptyConfig(), '3h'))[0]).toBe(
      "profile.rebootTimeout must be a duration between 1s and 2h ('10m', '90s')",
    );
    expect(usageIssues(() => setRebootTimeout(emptyConfig(), '500ms'))[0]).toBe(
      "profile.rebootTimeout must be a duration between 1s and 2h ('10m', '90s')",
    );
    expect(setRebootTimeout(emptyConfig(), '15m').profile.rebootTimeout).toBe('15m');
    expect(usageIssues(() => setPartition(emptyConfig(), '2'))[0]).toBe(
      "profile.partition must be 'non-boot', 0 or 1",
    );
    expect(setPartition(emptyConfig(), '1').profile.partition).toBe(1);
  });

  it('inventory add refuses a missing field and a bad SSH port by name', () => {
    expect(
      usageIssues(() => addController(emptyConfig(), '127.20.1.10', ['model', 'A7210', 'role', 'local']))[0],
    ).toBe('inventory[127.20.1.10].credentialsRef is required');
    expect(
      usageIssues(() =>
        addController(emptyConfig(), '10.1.4.300', ['model', 'A7210', 'role', 'local', 'credentials', 'a']),
      )[0],
    ).toMatch(/^inventory\[10\.1\.4\.300\]\.ip must be an IPv4 address/);
    expect(
      usageIssues(() =>
        addController(emptyConfig(), '127.20.1.10', [
          'model',
          'A7210',
          'role',
          'local',
          'credentials',
          'a',
          'ssh',
          '127.0.0.1:0',
        ]),
      )[0],
    ).toBe('inventory[127.20.1.10].ssh.port must be >= 1');
  });

  it('adds a target once and removes exactly that selector', () => {
    const config = addTarget(addTarget(stagedFleet(), '127.20.1.0/24'), 'all');
    expect(config.targets).toEqual(['127.20.1.0/24', 'all']);
    expect(removeTarget(config, '127.20.1.0/24').targets).toEqual(['all']);
    expect(usageIssues(() => removeTarget(config, '127.20.9.9'))[0]).toMatch(/not staged/);
  });

  it('replaces re-imported controllers by IP', () => {
    const config = upsertControllers(stagedFleet(), [
      { ip: '127.20.1.10', model: 'A7005' },
      { ip: '127.20.2.10', model: 'A7005' },
    ]);
    expect(config.inventory.map((c) => [c.ip, c.model])).toEqual([
      ['127.20.1.10', 'A7005'],
      ['127.20.2.10', 'A7005'],
    ]);
  });
});

describe('write memory validation', () => {
  it('accepts a complete config and fills in the defaults', () => {
    const config = validateStaged(stagedFleet());
    expect(config.profile).toMatchObject({
      autoboot: false,
      maxDownloads: 10,
      retryInterval: '15m',
      quickTries: 3,
    });
  });

  it('refuses with every bad field named', () => {
    const staged = stagedFleet();
    staged.inventory.push({
      ip: '127.20.2.10',
      model: 'A7005',
      role: 'local',
      ssh: { host: '127.20.2.10', port: 22 },
      credentialsRef: 'admin',
    });
    staged.targets.push('127.20.2.0/24');
    (staged.profile.models.A7210 as Record<string, unknown>).imageFile = 'bad name;reboot';
    staged.profile.maxDownloads = 0;
    const issues = usageIssues(() => validateStaged(staged));
    expect(issues).toEqual(
      expect.arrayContaining([
        'profile.models.A7210.imageFile must be a file name: letters, digits and ._+- in each /-separated part, none starting with . or -, each at most 128 characters',
        'profile.maxDownloads must be >= 1',
        expect.stringMatching(
          /^profile\.models\.A7005 is missing: targets include A7005 controllers \(127\.20\.2\.10\)/,
        ),
      ]),
    );
  });

  it('refuses a secret typed into the config', () => {
    const staged = stagedFleet();
    (staged.profile.models.A7210 as Record<string, unknown>).password = 'hunter2';
    const issues = usageIssues(() => validateStaged(staged));
    expect(issues[0]).toMatch(/^profile\.models\.A7210\.password is not accepted/);
    expect(issues.join('\n')).not.toContain('hunter2');
  });
});

describe('config file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ciu-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips the staged config through YAML', () => {
    expect(loadStaged(dir)).toEqual(emptyConfig());
    saveStaged(dir, stagedFleet());
    expect(loadStaged(dir)).toEqual(stagedFleet());
  });

  it('names the file when a hand edit broke it', () => {
    writeFileSync(stagedFile(dir), 'inventory: {a: 1}\n');
    expect(usageIssues(() => loadStaged(dir))[0]).toMatch(
      /config\.yaml: inventory must be a list of controllers/,
    );
    writeFileSync(stagedFile(dir), 'profile: [unclosed\n');
    expect(usageIssues(() => loadStaged(dir))[0]).toMatch(/config\.yaml is not valid YAML/);
  });
});

test('allow-unsigned stages the profile field; no-allow-unsigned removes it (refused is the default)', () => {
  const allowed = setAllowUnsigned(emptyConfig(), true);
  expect(allowed.profile.allowUnsigned).toBe(true);
  expect(validateStaged(allowed).profile.allowUnsigned).toBe(true);
  expect(setAllowUnsigned(allowed, false).profile).toEqual(emptyConfig().profile);
});
