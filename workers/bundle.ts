/**
 * The workflow bundle. `npm run build` (run by `npm install`/`npm ci` through `prepare`) writes it once to
 * dist/workflow-bundle.js, and the compiled worker loads that file instead of running webpack at every
 * start. A worker run from the TypeScript sources (tests, tsx) bundles workflows/ when it starts.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bundleWorkflowCode,
  type Logger as SdkLogger,
  type LogLevel,
  type LogMetadata,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createLogger, type Logger } from '../src/logging';
import { failureConverterPath } from '../src/temporal/data-converter';
import { sdkLogger } from './runtime';

/** Beside the compiled worker: dist/workers/bundle.js → dist/workflow-bundle.js. */
export const prebuiltBundlePath = join(__dirname, '..', 'workflow-bundle.js');

/**
 * The bundler reports webpack's whole statistics at info level; an operator's log gets none of it
 * (debug keeps it for whoever looks for it), but its warnings and errors stay.
 */
export function bundlerLogger(logger: Logger): SdkLogger {
  return sdkLogger((level: LogLevel, message: string, meta?: LogMetadata) => {
    const to =
      level === 'WARN' ? 'warn' : level === 'ERROR' ? 'error' : level === 'TRACE' ? 'trace' : 'debug';
    logger[to]({ ...meta }, message);
  });
}

/**
 * How ciu's workflows are bundled, wherever they are (the build, a worker from sources, tests, benches).
 * zod is loaded once per V8 context and shared by every workflow in it instead of once per workflow:
 * its library code was most of what each cached workflow held and of what each start or replay ran.
 * The SDK freezes shared modules, so zod's one setting is made while it loads (src/domain/zod-config.ts).
 */
export const workflowBundleOptions = {
  workflowsPath: require.resolve('../workflows'),
  // Error texts from workflow code go through the payload codec too (src/temporal/failure-converter.ts).
  failureConverterPath,
  // 'zod' as the workflows import it (webpack resolves it alike); zod-config by its path.
  preloadModules: ['zod', require.resolve('../src/domain/zod-config')],
};

/** Bundles workflows/ now, with the bundler's report kept out of the operator's log. */
export async function bundleWorkflows(logger: Logger): Promise<{ code: string }> {
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions, logger: bundlerLogger(logger) });
  return { code };
}

/** The prebuilt bundle when there is one beside this file, else a bundle made now. */
export async function workflowBundleFor(logger: Logger): Promise<WorkflowBundleOption> {
  if (existsSync(prebuiltBundlePath)) return { codePath: prebuiltBundlePath };
  return bundleWorkflows(logger);
}

if (require.main === module) {
  bundleWorkflows(createLogger('ciu-build', { level: 'warn' }))
    .then(({ code }) => writeFile(prebuiltBundlePath, code))
    .then(() => process.stdout.write(`workflow bundle: ${prebuiltBundlePath}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`workflow bundle: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
