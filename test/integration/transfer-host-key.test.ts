import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHostKey, hostKeyFingerprint, hostKeyVerifier } from '../../src/transfer/host-key';

// Host-key policy: pinned fingerprint first, else known_hosts; an unknown host is never trusted.
// OpenSSH's own ssh-keygen makes the key and states its fingerprint, so the format is checked against it.
let dir: string;
let key: Buffer;
let keyLine: string;
let fingerprint: string;
const other = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIE2wSeIsKb7eRkWBd/o0CqNdlNOxtKxcqzeC4C3KQrTA', 'base64');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ciu-hostkey-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'key')]);
  const [type, blob] = readFileSync(join(dir, 'key.pub'), 'utf8').trim().split(/\s+/);
  keyLine = `${type} ${blob}`;
  key = Buffer.from(blob ?? '', 'base64');
  fingerprint =
    execFileSync('ssh-keygen', ['-lf', join(dir, 'key.pub')], { encoding: 'utf8' }).split(/\s+/)[1] ?? '';
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function knownHosts(content: string): string {
  const file = join(dir, `known_hosts_${randomBytes(4).toString('hex')}`);
  writeFileSync(file, content);
  return file;
}

test('fingerprints match what ssh-keygen -lf prints', () => {
  expect(fingerprint).toMatch(/^SHA256:/);
  expect(hostKeyFingerprint(key)).toBe(fingerprint);
});

test('a pinned fingerprint accepts its key and names both keys on a mismatch', () => {
  expect(checkHostKey({ host: '127.0.0.1', port: 2222, hostKey: fingerprint }, key)).toEqual({ ok: true });
  expect(checkHostKey({ host: '127.0.0.1', port: 2222, hostKey: `${fingerprint}=` }, key)).toEqual({
    ok: true,
  });
  expect(checkHostKey({ host: '127.0.0.1', port: 2222, hostKey: fingerprint }, other)).toEqual({
    ok: false,
    reason: `host key of 127.0.0.1:2222 is ${hostKeyFingerprint(other)}, but ${fingerprint} is pinned`,
  });
});

test('with neither a pin nor a known_hosts file, every key is refused', () => {
  expect(checkHostKey({ host: '10.0.0.1' }, key, {})).toEqual({
    ok: false,
    reason:
      'host key of 10.0.0.1:22 cannot be checked: no pinned hostKey and no known_hosts file (set CIU_KNOWN_HOSTS)',
  });
});

test('known_hosts: [host]:port entries, port 22 by bare name, comma lists and wildcards', () => {
  const file = knownHosts(
    `# comment\n[127.0.0.1]:2222 ${keyLine}\nctl-a,10.1.4.17 ${keyLine}\n10.9.* ${keyLine}\n`,
  );
  expect(checkHostKey({ host: '127.0.0.1', port: 2222, knownHostsFile: file }, key)).toEqual({ ok: true });
  expect(checkHostKey({ host: '10.1.4.17', knownHostsFile: file }, key)).toEqual({ ok: true });
  expect(checkHostKey({ host: '10.9.3.3', knownHostsFile: file }, key)).toEqual({ ok: true });
  expect(checkHostKey({ host: '127.0.0.1', port: 22, knownHostsFile: file }, key)).toEqual({
    ok: false,
    reason: `127.0.0.1:22 is not in known_hosts file ${file}`,
  });
  expect(checkHostKey({ host: '10.1.4.17', knownHostsFile: file }, other)).toEqual({
    ok: false,
    reason: `host key of 10.1.4.17:22 is ${hostKeyFingerprint(other)}, which does not match known_hosts file ${file}`,
  });
});

test('known_hosts: hashed names, negation and @revoked', () => {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update('[127.0.0.1]:2200').digest('base64');
  const file = knownHosts(
    `|1|${salt.toString('base64')}|${hash} ${keyLine}\n10.*,!10.0.0.9 ${keyLine}\n@revoked 10.0.0.5 ${keyLine}\n@cert-authority * ${keyLine}\n`,
  );
  expect(checkHostKey({ host: '127.0.0.1', port: 2200, knownHostsFile: file }, key)).toEqual({ ok: true });
  expect(checkHostKey({ host: '10.0.0.9', knownHostsFile: file }, key).ok).toBe(false);
  expect(checkHostKey({ host: '10.0.0.5', knownHostsFile: file }, key)).toEqual({
    ok: false,
    reason: `host key ${fingerprint} of 10.0.0.5:22 is marked @revoked in ${file}`,
  });
  expect(checkHostKey({ host: '192.168.1.1', knownHostsFile: file }, key).ok).toBe(false);
});

test('the known_hosts file can come from CIU_KNOWN_HOSTS; an unreadable one is a refusal, not a crash', () => {
  const file = knownHosts(`10.2.2.2 ${keyLine}\n`);
  expect(checkHostKey({ host: '10.2.2.2' }, key, { CIU_KNOWN_HOSTS: file })).toEqual({ ok: true });
  const verdict = checkHostKey({ host: '10.2.2.2' }, key, { CIU_KNOWN_HOSTS: join(dir, 'missing') });
  expect(verdict.ok).toBe(false);
  expect(!verdict.ok && verdict.reason).toMatch(/^known_hosts file .*missing cannot be read/);
});

test('the ssh2 verifier remembers why it refused', () => {
  const verifier = hostKeyVerifier({ host: '127.0.0.1', port: 2222, hostKey: fingerprint });
  expect(verifier.hostVerifier(other)).toBe(false);
  expect(verifier.rejection()).toContain('is pinned');
  expect(verifier.hostVerifier(key)).toBe(true);
  expect(verifier.rejection()).toBeUndefined();
});
