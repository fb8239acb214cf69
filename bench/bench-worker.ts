/**
 * One benchmark worker in a process of its own, so its peak RSS is its own: `ciu` (ciu's workflows
 * with instant activities) or `baseline`. Prints "ready" once polling; on SIGTERM it drains, prints
 * "peak-rss <bytes>" (VmHWM) and exits. Its workflows come bundled (bench/orchestration.ts bundles
 * both sides before it starts them, as `npm run build` does for ciu's worker), so no webpack run
 * counts in its peak.
 *   tsx bench/bench-worker.ts ciu|baseline <address> <taskQueue> <bundle file>
 */
import { readFileSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { ciuDataConverter } from '../src/temporal/data-converter';
import { settingsFromEnv } from '../src/settings';
import { generateKeyRing, loadKeyRing } from '../src/temporal/keys';
import { MessageSealCodec } from '../src/temporal/message-seal';
import { workflowCacheSize } from '../workers/worker';
import { instantActivities } from './instant-activities';

function peakRss(): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/** CIU_MESSAGE_KEYS when set (a worker restarted by the bench still hears its campaign), or a key of its own. */
function messageKeys() {
  const file = settingsFromEnv().messageKeysFile;
  return file ? loadKeyRing(file) : generateKeyRing('bench');
}

async function main(): Promise<void> {
  const [kind, address, taskQueue, codePath] = process.argv.slice(2);
  if ((kind !== 'ciu' && kind !== 'baseline') || !address || !taskQueue || !codePath)
    throw new Error('usage: bench-worker.ts ciu|baseline <address> <taskQueue> <bundle file>');
  Runtime.install({
    logger: new DefaultLogger('ERROR', (entry) => {
      if (entry.meta?.sdkComponent !== 'workflow') process.stderr.write(`${entry.message}\n`);
    }),
  });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath },
    activities: kind === 'ciu' ? instantActivities : { touch: async () => undefined },
    // ciu's workflows trust only sealed internal messages (reports, slot requests, carried state), as a ciu worker seals them.
    ...(kind === 'ciu'
      ? { dataConverter: ciuDataConverter({ messageCodec: new MessageSealCodec(messageKeys()) }) }
      : {}),
    // The same cache for both, the one ciu's worker uses (workers/worker.ts says why; CIU_WORKFLOW_CACHE_SIZE sets it).
    maxCachedWorkflows: settingsFromEnv().workflowCacheSize ?? workflowCacheSize,
  });
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
  await connection.close();
  process.stdout.write(`peak-rss ${peakRss()}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
