import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingVariables, settingsFromEnv, temporalConnectionEnv } from '../../src/settings';

test('defaults when the environment sets nothing', () => {
  expect(settingsFromEnv({})).toEqual({
    home: '.ciu',
    sshLegacyAlgorithms: [],
    logLevel: 'info',
  });
});

test('every variable is read from the environment it is given', () => {
  const settings = settingsFromEnv({
    TEMPORAL_ADDRESS: 'temporal.example:7233',
    TEMPORAL_NAMESPACE: 'fleet',
    CIU_HOME: '/srv/ciu',
    CIU_CREDENTIALS_FILE: '/etc/ciu/credentials.yaml',
    CIU_KNOWN_HOSTS: '/etc/ciu/known_hosts',
    CIU_TLS_CA_FILE: '/etc/ciu/ftps-ca.pem',
    CIU_SSH_LEGACY_ALGORITHMS: ' ssh-rsa, hmac-sha1 ,',
    CIU_LOG_LEVEL: 'debug',
    CIU_LOG_PRETTY: '0',
    CIU_METRICS: '127.0.0.1:9465',
    CIU_SDK_METRICS: '127.0.0.1:9464',
    CIU_IMAGE_KEYS: '/etc/ciu/release.pub, /etc/ciu/hotfix.pub',
    CIU_WORKFLOW_CACHE_SIZE: '400',
  });
  expect(settings).toEqual({
    home: '/srv/ciu',
    credentialsFile: '/etc/ciu/credentials.yaml',
    knownHostsFile: '/etc/ciu/known_hosts',
    tlsCaFile: '/etc/ciu/ftps-ca.pem',
    sshLegacyAlgorithms: ['ssh-rsa', 'hmac-sha1'],
    logLevel: 'debug',
    logPretty: false,
    metricsAddress: '127.0.0.1:9465',
    sdkMetricsAddress: '127.0.0.1:9464',
    imageKeyFiles: ['/etc/ciu/release.pub', '/etc/ciu/hotfix.pub'],
    workflowCacheSize: 400,
  });
});

test('a workflow cache size that is not a whole number of at least 1 is refused, naming the variable', () => {
  for (const bad of ['0', '-5', '2.5', 'lots', '1e3'])
    expect(() => settingsFromEnv({ CIU_WORKFLOW_CACHE_SIZE: bad })).toThrow(
      `CIU_WORKFLOW_CACHE_SIZE must be a whole number of at least 1, got "${bad}"`,
    );
});

test("Temporal's connection variables are picked for envconfig, empty ones left out", () => {
  expect(
    temporalConnectionEnv({
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'fleet',
      TEMPORAL_API_KEY: 'k',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/ciu/worker.pem',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '',
      TEMPORAL_PROFILE: 'prod',
      HOME: '/home/ops',
      CIU_HOME: '/srv/ciu',
      TEMPORAL_UNKNOWN: 'x',
    }),
  ).toEqual({
    TEMPORAL_ADDRESS: 'temporal.example:7233',
    TEMPORAL_NAMESPACE: 'fleet',
    TEMPORAL_API_KEY: 'k',
    TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/ciu/worker.pem',
    TEMPORAL_PROFILE: 'prod',
    HOME: '/home/ops',
  });
});

test('README documents every variable ciu reads', () => {
  const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
  for (const name of Object.keys(settingVariables)) expect(readme).toContain(`\`${name}\``);
});
