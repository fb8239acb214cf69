/**
 * Latency of one `ciu` call, as an operator's shell sees it (a new process each time), against the
 * Temporal CLI's `temporal workflow list` on the same dev server as the baseline. A real worker answers
 * the status query of a campaign whose image server is down (it stays verifying, which the query shows).
 * Prints the median of BENCH_RUNS (default 9) wall times and the ratio to the baseline.
 *   npm run bench:cli          (after `npm run build`: bin/ciu.js runs the compiled CLI in dist/)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { commitCampaign } from '../src/cli/commit';
import { staticCredentialStore } from '../src/credentials/store';
import { validateCampaignConfig } from '../src/domain/config';
import { startDevServer } from '../devkit/temporal/dev-server';
import { temporalCliPath } from '../devkit/temporal/binaries';
import { installRuntime } from '../workers/runtime';
import { generateKeyRing } from '../src/temporal/keys';
import { createCiuWorker, NativeConnection } from '../workers/worker';

const root = join(__dirname, '..');
const runs = Number(process.env.BENCH_RUNS ?? 9);

// Asynchronous: the worker answering the status query runs in this process and must not be blocked.
const run = promisify(execFile);

async function median(command: string, args: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = process.hrtime.bigint();
    await run(command, args, { cwd: root });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const logger = pino({ level: 'silent' });
  installRuntime({ logger });
  const dev = await startDevServer({ uiPort: false });
  const workerConnection = await NativeConnection.connect({ address: dev.address });
  const connection = await Connection.connect({ address: dev.address });
  const worker = await createCiuWorker({
    connection: workerConnection,
    logger,
    messageKeys: generateKeyRing(),
    credentials: staticCredentialStore({
      'demo-images': {
        username: 'ftp',
        password: 'bench',
        allow: { purpose: 'image-server', hosts: ['127.0.0.0/8'], protocols: ['ftp'], allowPlaintext: true },
      },
    }),
  });
  const running = worker.run();
  try {
    const input = JSON.parse(readFileSync(join(root, 'examples/upgrade.json'), 'utf8')) as unknown;
    const validation = validateCampaignConfig(input);
    if (!validation.ok) throw new Error(validation.issues.join('; '));
    await commitCampaign(new Client({ connection }), 'bench-cli', validation.config);

    const ciu = join(root, 'bin/ciu.js');
    const list = ['workflow', 'list', '--address', dev.address, '--limit', '10'];
    const baseline = await median(temporalCliPath(), list);
    const rows: Array<[string, number]> = [
      ['temporal workflow list (baseline)', baseline],
      ['ciu --help', await median(process.execPath, [ciu, '--help'])],
      [
        'ciu show upgrade status',
        await median(process.execPath, [
          ciu,
          '--address',
          dev.address,
          'show',
          'upgrade',
          'status',
          '--campaign',
          'bench-cli',
        ]),
      ],
      ['ciu temporal workflow list', await median(process.execPath, [ciu, 'temporal', ...list])],
      // What each call cost before: TypeScript compiled by tsx at every start.
      [
        'tsx src/cli/main.ts --help (sources)',
        await median(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), '--help']),
      ],
    ];
    process.stdout.write(`median of ${runs} runs each, one new process per call\n`);
    for (const [name, ms] of rows)
      process.stdout.write(
        `${name.padEnd(40)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / baseline).toFixed(2)}x\n`,
      );
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await workerConnection.close();
    await dev.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:cli: ${String(err)}\n`);
  process.exit(1);
});
