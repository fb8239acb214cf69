import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { settingsFromEnv } from '../settings';

/**
 * Where an SSH host's key is looked up: a pinned fingerprint, the known_hosts file, or both (then
 * the key must match both).
 */
export interface HostKeyPolicy {
  host: string;
  /** Default 22. */
  port?: number;
  /** Pinned fingerprint, 'SHA256:<base64>' as `ssh-keygen -lf` prints it. */
  hostKey?: string;
  /** known_hosts file; with a pin, checked as well. Default without a pin: env CIU_KNOWN_HOSTS. */
  knownHostsFile?: string;
}

/** Outcome of checking one presented key. */
export type HostKeyVerdict = { ok: true } | { ok: false; reason: string };

/** OpenSSH fingerprint of a raw public key blob: 'SHA256:<base64 without padding>'. */
export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function normaliseFingerprint(fp: string): string {
  return fp.trim().replace(/=+$/, '');
}

/** How known_hosts names a host: `host` on port 22, `[host]:port` otherwise. */
function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) matched = true;
  }
  return matched;
}

/** The keys known_hosts lists for a host (raw blobs), and the revoked ones. */
export function knownHostKeys(file: string, host: string, port = 22): { keys: Buffer[]; revoked: Buffer[] } {
  const name = knownHostsName(host, port);
  const keys: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const rawLine of readFileSync(file, 'utf8').split('\n')) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let marker: string | undefined;
    if (fields[0]?.startsWith('@')) {
      marker = fields[0];
      fields = fields.slice(1);
    }
    const [hosts, , blob] = fields;
    if (!hosts || !blob || marker === '@cert-authority' || !hostFieldMatches(hosts, name)) continue;
    (marker === '@revoked' ? revoked : keys).push(Buffer.from(blob, 'base64'));
  }
  return { keys, revoked };
}

/** Checks a presented host key against the policy. Unknown hosts are refused, never trusted on first use. */
export function checkHostKey(
  policy: HostKeyPolicy,
  keyBlob: Buffer,
  env: NodeJS.ProcessEnv = process.env,
): HostKeyVerdict {
  const port = policy.port ?? 22;
  const where = `${policy.host}:${port}`;
  const presented = hostKeyFingerprint(keyBlob);
  if (policy.hostKey) {
    if (normaliseFingerprint(policy.hostKey) !== presented)
      return {
        ok: false,
        reason: `host key of ${where} is ${presented}, but ${normaliseFingerprint(policy.hostKey)} is pinned`,
      };
    // A pin and an explicitly given known_hosts file must both agree: a pin only narrows.
    if (!policy.knownHostsFile) return { ok: true };
  }
  const file = policy.knownHostsFile ?? settingsFromEnv(env).knownHostsFile;
  if (!file)
    return {
      ok: false,
      reason: `host key of ${where} cannot be checked: no pinned hostKey and no known_hosts file (set CIU_KNOWN_HOSTS)`,
    };
  let known: { keys: Buffer[]; revoked: Buffer[] };
  try {
    known = knownHostKeys(file, policy.host, port);
  } catch (err) {
    return { ok: false, reason: `known_hosts file ${file} cannot be read: ${(err as Error).message}` };
  }
  if (known.revoked.some((k) => k.equals(keyBlob)))
    return { ok: false, reason: `host key ${presented} of ${where} is marked @revoked in ${file}` };
  if (known.keys.some((k) => k.equals(keyBlob))) return { ok: true };
  if (known.keys.length === 0) return { ok: false, reason: `${where} is not in known_hosts file ${file}` };
  return {
    ok: false,
    reason: `host key of ${where} is ${presented}, which does not match known_hosts file ${file}`,
  };
}

/**
 * An ssh2 `hostVerifier` for the policy, plus the reason of its last refusal so the caller can turn
 * ssh2's generic "Host denied" into a precise host-key error.
 */
export function hostKeyVerifier(policy: HostKeyPolicy): {
  hostVerifier: (keyBlob: Buffer) => boolean;
  rejection: () => string | undefined;
} {
  let reason: string | undefined;
  return {
    hostVerifier(keyBlob) {
      const verdict = checkHostKey(policy, keyBlob);
      reason = verdict.ok ? undefined : verdict.reason;
      return verdict.ok;
    },
    rejection: () => reason,
  };
}
