import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * Secrets for image servers and controllers. Workflows carry only a credentials *reference* (a
 * name); activities resolve it here, in the worker process, so passwords and keys never enter
 * workflow input, history, search attributes or logs.
 */
export interface Credentials {
  username: string;
  password?: string;
  /** PEM private key (SSH). */
  privateKey?: string;
  /** A controller's enable password, for a CLI that starts in user mode (`>`). Default: `password`. */
  enablePassword?: string;
}

/** Raised for a reference the store does not hold. The message names the reference, never a secret. */
export class UnknownCredentialsError extends Error {
  override readonly name = 'UnknownCredentialsError';
  constructor(readonly ref: string) {
    super(`credentials reference "${ref}" is not defined in the worker's credential store`);
  }
}

export interface CredentialStore {
  resolve(ref: string): Credentials;
}

interface FileEntry {
  username?: unknown;
  password?: unknown;
  passwordFile?: unknown;
  privateKeyFile?: unknown;
  enablePassword?: unknown;
}

function envKey(ref: string): string {
  return ref.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/**
 * The worker's store: a YAML/JSON file (`CIU_CREDENTIALS_FILE`) mapping each reference to
 * `{ username, password | passwordFile | privateKeyFile }`, overridden per reference by the
 * environment (`CIU_CRED_<REF>_USERNAME`, `CIU_CRED_<REF>_PASSWORD`, REF upper-cased, non-alphanumerics → `_`).
 */
export function credentialStore(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): CredentialStore {
  const env = options.env ?? process.env;
  const file = options.file ?? env.CIU_CREDENTIALS_FILE;
  const entries: Record<string, FileEntry> = file
    ? ((parseYaml(readFileSync(file, 'utf8')) ?? {}) as Record<string, FileEntry>)
    : {};
  return {
    resolve(ref) {
      const key = envKey(ref);
      const fromEnvUser = env[`CIU_CRED_${key}_USERNAME`];
      const fromEnvPassword = env[`CIU_CRED_${key}_PASSWORD`];
      const entry = Object.prototype.hasOwnProperty.call(entries, ref) ? entries[ref] : undefined;
      const username = fromEnvUser ?? (typeof entry?.username === 'string' ? entry.username : undefined);
      if (!username) throw new UnknownCredentialsError(ref);
      const credentials: Credentials = { username };
      if (fromEnvPassword !== undefined) credentials.password = fromEnvPassword;
      else if (typeof entry?.password === 'string') credentials.password = entry.password;
      else if (typeof entry?.passwordFile === 'string')
        credentials.password = readFileSync(entry.passwordFile, 'utf8').trim();
      if (typeof entry?.privateKeyFile === 'string')
        credentials.privateKey = readFileSync(entry.privateKeyFile, 'utf8');
      const enable = env[`CIU_CRED_${key}_ENABLE_PASSWORD`] ?? entry?.enablePassword;
      if (typeof enable === 'string') credentials.enablePassword = enable;
      return credentials;
    },
  };
}

/** A store over an in-memory map, for tests and the demo. */
export function staticCredentialStore(entries: Record<string, Credentials>): CredentialStore {
  return {
    resolve(ref) {
      const found = Object.prototype.hasOwnProperty.call(entries, ref) ? entries[ref] : undefined;
      if (!found) throw new UnknownCredentialsError(ref);
      return found;
    },
  };
}
