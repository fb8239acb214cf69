import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

/** Raised when a Temporal binary is not installed; the message says how to install it. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(readonly binary: string) {
    super(
      `${binary} not found: run \`bash scripts/setup\` (or \`npm run setup\`) to install it into .tools/venv`,
    );
  }
}

/** The checkout holding package.json: the sources' parent, or dist/'s when running compiled. */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(from, '..', '..');
  }
}
const venvBin = join(projectRoot(__dirname), '.tools', 'venv', 'bin');

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function resolveBinary(name: string, envVar: string, searchPath: boolean): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new MissingBinaryError(`${name} (${envVar}=${fromEnv})`);
    return fromEnv;
  }
  const local = join(venvBin, name);
  if (existsSync(local)) return local;
  const found = searchPath ? onPath(name) : undefined;
  if (found) return found;
  throw new MissingBinaryError(name);
}

/** The `temporal` CLI: TEMPORAL_CLI_PATH, then .tools/venv, then PATH (same order as scripts/setup). */
export function temporalCliPath(): string {
  return resolveBinary('temporal', 'TEMPORAL_CLI_PATH', true);
}

/** The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, then .tools/venv. */
export function timeSkippingServerPath(): string {
  return resolveBinary('temporal-test-server', 'TEMPORAL_TEST_SERVER_PATH', false);
}
