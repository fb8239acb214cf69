import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshTrust, type CredentialPolicy, type CredentialUse } from '../../src/credentials/policy';
import {
  CredentialPolicyError,
  credentialStore,
  CredentialStoreError,
  staticCredentialStore,
  UnknownCredentialsError,
} from '../../src/credentials/store';

const dir = mkdtempSync(join(tmpdir(), 'ciu-cred-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function storeFile(content: string, mode = 0o600): string {
  const file = join(dir, `credentials-${files++}.yaml`);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

const imageFtp = `image-ftp:
  username: images
  password: from-file
  allow:
    purpose: image-server
    hosts: [10.1.9.5]
    ports: [21]
    protocols: [ftp]
    allowPlaintext: true
`;
const ftpUse: CredentialUse = { purpose: 'image-server', host: '10.1.9.5', port: 21, protocol: 'ftp' };

const fp = (c: string) => `SHA256:${c.repeat(43)}`;
const controllers: CredentialPolicy = {
  purpose: 'controller-login',
  hosts: ['10.1.4.0/24'],
  ports: [22],
  protocols: ['ssh'],
};

test('resolves a reference from the file for an allowed use, the environment overriding the password', () => {
  const store = credentialStore({
    file: storeFile(imageFtp),
    env: { CIU_CRED_IMAGE_FTP_PASSWORD: 'from-env' },
  });
  expect(store.resolve('image-ftp', ftpUse)).toMatchObject({ username: 'images', password: 'from-env' });
});

test('an unknown reference names the reference and no secret; the environment alone defines no credential', () => {
  const store = credentialStore({ env: { CIU_CRED_OTHER_USERNAME: 'u', CIU_CRED_OTHER_PASSWORD: 's3cret' } });
  expect(() => store.resolve('other', ftpUse)).toThrow(UnknownCredentialsError);
  expect(() => store.resolve('missing', ftpUse)).toThrow('credentials reference "missing"');
});

test.each([
  [{ host: '127.0.0.99' }, 'allow.hosts', 'host 127.0.0.99 is not allowed'],
  [{ port: 2121 }, 'allow.ports', 'port 2121 of 10.1.9.5 is not allowed'],
  [{ protocol: 'ftps' as const }, 'allow.protocols', 'protocol ftps is not allowed'],
  [{ purpose: 'controller-login' as const }, 'allow.purpose', 'it is for image-server, not controller-login'],
])('a use outside the policy (%o) is refused by field, without the secret', (change, field, detail) => {
  const store = credentialStore({ file: storeFile(imageFtp) });
  let caught: unknown;
  try {
    store.resolve('image-ftp', { ...ftpUse, ...change });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CredentialPolicyError);
  expect((caught as CredentialPolicyError).field).toBe(field);
  expect((caught as Error).message).toContain(detail);
  expect((caught as Error).message).not.toContain('from-file');
});

test('subnets and host names in allow.hosts: an address inside the subnet, the exact name', () => {
  const store = staticCredentialStore({
    c: {
      username: 'admin',
      password: 'pw',
      allow: { ...controllers, hosts: ['10.1.4.0/24', 'ctl.example'] },
    },
  });
  const use: CredentialUse = { purpose: 'controller-login', host: '10.1.4.200', port: 22, protocol: 'ssh' };
  expect(store.resolve('c', use).username).toBe('admin');
  expect(store.resolve('c', { ...use, host: 'CTL.example' }).username).toBe('admin');
  expect(() => store.resolve('c', { ...use, host: '10.1.5.1' })).toThrow(CredentialPolicyError);
  expect(() => store.resolve('c', { ...use, host: 'ctl.example.evil' })).toThrow(CredentialPolicyError);
});

test('an old-format entry (no allow) is refused when the store opens, with the field and the fix', () => {
  const file = storeFile('image-ftp:\n  username: images\n  password: from-file\n');
  expect(() => credentialStore({ file })).toThrow(
    /^credentials\.image-ftp\.allow is missing: every credential must list where it may be used/,
  );
});

test('plaintext protocols only where the credential says allowPlaintext: true', () => {
  const file = storeFile(imageFtp.replace('    allowPlaintext: true\n', ''));
  expect(() => credentialStore({ file })).toThrow(
    'credentials.image-ftp.allow.protocols.0 is ftp, which sends the password in clear: set allowPlaintext: true to permit it',
  );
  expect(() =>
    staticCredentialStore({ c: { username: 'a', allow: { ...controllers, protocols: ['sftp'] } } }),
  ).toThrow('credentials.c.allow.protocols.0 is sftp, which is not a protocol for controller-login');
});

test('a credential file readable by group or others is refused', () => {
  const file = storeFile(imageFtp, 0o640);
  expect(() => credentialStore({ file })).toThrow(/readable by group or others \(mode 640\); chmod 600 it/);
});

test('a password with a newline or control character is refused, never typed into a CLI', () => {
  expect(() =>
    staticCredentialStore({
      c: { username: 'admin', password: 'pw\nshow running-config', allow: controllers },
    }),
  ).toThrow('credentials.c.password contains a newline or control character, which ciu refuses');
  const file = storeFile(imageFtp);
  const fromEnv = credentialStore({ file, env: { CIU_CRED_IMAGE_FTP_PASSWORD: 'x\u001b[2J' } });
  expect(() => fromEnv.resolve('image-ftp', ftpUse)).toThrow(CredentialStoreError);
});

describe('sshTrust: a host key pinned in workflow input only narrows what the worker trusts', () => {
  test('a pin among the credential’s keys is used; a pin outside them is refused', () => {
    const policy = { ...controllers, hostKeys: [fp('a'), fp('b')] };
    expect(sshTrust('c', policy, fp('b'), undefined)).toEqual({ hostKey: fp('b') });
    expect(() => sshTrust('c', policy, fp('z'), undefined)).toThrow(
      `credentials "c" may not be used here: host key ${fp('z')} pinned in the input is not trusted (allow.hostKeys`,
    );
  });

  test('without keys of its own the worker checks the pin against known_hosts too; with neither it refuses', () => {
    expect(sshTrust('c', controllers, fp('a'), '/etc/ciu/known_hosts')).toEqual({
      hostKey: fp('a'),
      knownHostsFile: '/etc/ciu/known_hosts',
    });
    expect(() => sshTrust('c', controllers, fp('a'), undefined)).toThrow(
      'a key pinned in workflow input alone is not trusted',
    );
  });
});
