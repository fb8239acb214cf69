import { settingsFromEnv } from '../settings';
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  checkCredentialUse,
  credentialPolicySchema,
  type CredentialPolicy,
  type CredentialUse,
} from './policy';

/**
 * Secrets for image servers and controllers. Workflows carry only a credentials *reference* (a
 * name); activities resolve it here, in the worker process, so passwords and keys never enter
 * workflow input, history, search attributes or logs. Each credential also says where it may be
 * used (`allow`), and resolve() refuses any other use: the worker, not the workflow input, decides
 * where a secret may go.
 */
export interface Credentials {
  username: string;
  password?: string;
  /** PEM private key (SSH). */
  privateKey?: string;
  /** A controller's enable password, for a CLI that starts in user mode (`>`). Default: `password`. */
  enablePassword?: string;
}

/** A credential with the policy that binds it to its destinations. */
export interface StoredCredentials extends Credentials {
  allow: CredentialPolicy;
}

/** Raised for a reference the store does not hold. The message names the reference, never a secret. */
export class UnknownCredentialsError extends Error {
  override readonly name = 'UnknownCredentialsError';
  constructor(readonly ref: string) {
    super(`credentials reference "${ref}" is not defined in the worker's credential store`);
  }
}

/** A credential store (file or entry) that cannot be used as written. Names the field, never a secret. */
export class CredentialStoreError extends Error {
  override readonly name = 'CredentialStoreError';
}

export interface CredentialStore {
  /** The credential for `ref`, if its policy allows `use`; throws CredentialPolicyError otherwise. */
  resolve(ref: string, use: CredentialUse): StoredCredentials;
}

// A newline in a password is typed into the controller's CLI as a second command; no control
// character has a place in a login.
// eslint-disable-next-line no-control-regex
const controlCharacter = /[\u0000-\u001f\u007f-\u009f]/;

function checkSecretText(where: string, value: string): string {
  if (controlCharacter.test(value))
    throw new CredentialStoreError(`${where} contains a newline or control character, which ciu refuses`);
  return value;
}

function checkStored(ref: string, entry: StoredCredentials): StoredCredentials {
  checkSecretText(`credentials.${ref}.username`, entry.username);
  if (entry.password !== undefined) checkSecretText(`credentials.${ref}.password`, entry.password);
  if (entry.enablePassword !== undefined)
    checkSecretText(`credentials.${ref}.enablePassword`, entry.enablePassword);
  return entry;
}

function parsePolicy(ref: string, raw: unknown): CredentialPolicy {
  if (raw === undefined)
    throw new CredentialStoreError(
      `credentials.${ref}.allow is missing: every credential must list where it may be used (purpose, hosts, ports, protocols; see README "Credential store")`,
    );
  const result = credentialPolicySchema.safeParse(raw);
  if (result.success) return result.data;
  throw new CredentialStoreError(
    result.error.issues
      .map((i) => `credentials.${ref}.allow${i.path.map((p) => `.${String(p)}`).join('')} ${i.message}`)
      .join('; '),
  );
}

/** Refuses a secret file others on the host can read. */
function readPrivateFile(where: string, file: string): string {
  const { mode } = statSync(file);
  if ((mode & 0o044) !== 0)
    throw new CredentialStoreError(
      `${where} ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  return readFileSync(file, 'utf8');
}

interface FileEntry {
  username?: unknown;
  password?: unknown;
  passwordFile?: unknown;
  privateKeyFile?: unknown;
  allow?: unknown;
  enablePassword?: unknown;
}

function envKey(ref: string): string {
  return ref.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

function optionalString(where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new CredentialStoreError(`${where} must be a string`);
  return value;
}

/**
 * The worker's store: a YAML/JSON file (`CIU_CREDENTIALS_FILE`, mode 600) mapping each reference to
 * `{ username, password | passwordFile | privateKeyFile, allow: { purpose, hosts, ports?, protocols,
 * allowPlaintext?, hostKeys? } }`. The environment may override the login of an entry the file
 * defines (`CIU_CRED_<REF>_USERNAME`, `CIU_CRED_<REF>_PASSWORD`, REF upper-cased, non-alphanumerics →
 * `_`), never its policy. Policies are checked when the store opens; secrets are read on each use.
 */
export function credentialStore(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): CredentialStore {
  const env = options.env ?? process.env;
  const file = options.file ?? settingsFromEnv(env).credentialsFile;
  const raw = file ? (parseYaml(readPrivateFile('credential file', file)) ?? {}) : {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new CredentialStoreError(`credential file ${file} must map references to credentials`);
  const entries = new Map<string, { entry: FileEntry; allow: CredentialPolicy }>();
  for (const [ref, entry] of Object.entries(raw as Record<string, FileEntry>)) {
    if (typeof entry !== 'object' || entry === null)
      throw new CredentialStoreError(`credentials.${ref} must be a mapping`);
    entries.set(ref, { entry, allow: parsePolicy(ref, entry.allow) });
  }
  return {
    resolve(ref, use) {
      const found = entries.get(ref);
      if (!found) throw new UnknownCredentialsError(ref);
      const { entry, allow } = found;
      checkCredentialUse(ref, allow, use);
      const key = envKey(ref);
      const username =
        env[`CIU_CRED_${key}_USERNAME`] ?? optionalString(`credentials.${ref}.username`, entry.username);
      if (!username) throw new CredentialStoreError(`credentials.${ref}.username is missing`);
      const stored: StoredCredentials = { username, allow };
      const password =
        env[`CIU_CRED_${key}_PASSWORD`] ?? optionalString(`credentials.${ref}.password`, entry.password);
      const passwordFile = optionalString(`credentials.${ref}.passwordFile`, entry.passwordFile);
      const privateKeyFile = optionalString(`credentials.${ref}.privateKeyFile`, entry.privateKeyFile);
      if (password !== undefined) stored.password = password;
      else if (passwordFile)
        stored.password = readPrivateFile(`credentials.${ref}.passwordFile`, passwordFile).replace(
          /\r?\n$/,
          '',
        );
      if (privateKeyFile)
        stored.privateKey = readPrivateFile(`credentials.${ref}.privateKeyFile`, privateKeyFile);
      const enable =
        env[`CIU_CRED_${key}_ENABLE_PASSWORD`] ??
        optionalString(`credentials.${ref}.enablePassword`, entry.enablePassword);
      if (enable !== undefined) stored.enablePassword = enable;
      return checkStored(ref, stored);
    },
  };
}

/** A store over an in-memory map, for tests and the demo; policies are checked as the file's are. */
export function staticCredentialStore(entries: Record<string, StoredCredentials>): CredentialStore {
  const checked = new Map(
    Object.entries(entries).map(([ref, entry]) => [
      ref,
      checkStored(ref, { ...entry, allow: parsePolicy(ref, entry.allow) }),
    ]),
  );
  return {
    resolve(ref, use) {
      const found = checked.get(ref);
      if (!found) throw new UnknownCredentialsError(ref);
      checkCredentialUse(ref, found.allow, use);
      return found;
    },
  };
}

export { CredentialPolicyError, sshTrust, type CredentialPolicy, type CredentialUse } from './policy';
