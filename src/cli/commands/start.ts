import { settingsFromEnv } from '../../settings';
import type { Command } from 'commander';
import { globalOptions, withExamples, type CliContext } from '../context';
import { loadDevkit } from '../dev-kit-loader';
import { UsageError } from '../exit-codes';

function port(text: string, field: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`${field} must be a port 1..65535, got "${text}"`);
  return n;
}

function kibPerSecond(text: string, field: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${field} must be a whole number of KiB/s, got "${text}"`);
  return n;
}

/** `ciu start` (= `npm start`): the whole system on this machine, as a live demo. */
export function registerStartCommand(program: Command, ctx: CliContext): void {
  withExamples(
    program
      .command('start')
      .description(
        'demo: embedded Temporal (SQLite in the config dir), a worker, a real FTP server, a simulated fleet; commits a campaign and shows it live, then stays up for the Web UI until Ctrl-C',
      )
      .option('--port <port>', 'Temporal frontend port', '7233')
      .option('--ui-port <port>', 'Temporal Web UI port', '8233')
      .option('--metrics <host:port>', "ciu's Prometheus endpoint", '127.0.0.1:9465')
      .option('--sdk-metrics <host:port>', "the Temporal runtime's Prometheus endpoint", '127.0.0.1:9464')
      .option(
        '--ssh-port <port>',
        'SSH port of the simulated controllers (each has its own 127.20.x.y address)',
        '22',
      )
      .option(
        '--ftp-port <port>',
        'port of the demo FTP image server on 127.21.0.21 (examples/upgrade.json expects 21)',
        '21',
      )
      .option('--retry-interval <duration>', 'profile retry-interval for the demo', '20s')
      .option(
        '--image-rate <KiB/s>',
        "the demo image server's rate per download (0: unlimited); at the default a 4 MiB image takes about 6 s, so the live table shows its progress",
        '640',
      )
      .option('--verbose', 'logs on the terminal (stderr) instead of in <config-dir>/ciu-start.log')
      .action(async function (this: Command) {
        const o = this.opts<{
          port: string;
          uiPort: string;
          metrics: string;
          sdkMetrics: string;
          sshPort: string;
          ftpPort: string;
          retryInterval: string;
          imageRate: string;
          verbose?: boolean;
        }>();
        const { configDir } = globalOptions(this, ctx);
        const { runDemo } = await loadDevkit();
        await runDemo(
          {
            configDir,
            port: port(o.port, '--port'),
            uiPort: port(o.uiPort, '--ui-port'),
            metricsAddress: o.metrics,
            sdkMetricsAddress: o.sdkMetrics,
            demo: {
              sshPort: port(o.sshPort, '--ssh-port'),
              ftpPort: port(o.ftpPort, '--ftp-port'),
              retryInterval: o.retryInterval,
              imageServerRate: kibPerSecond(o.imageRate, '--image-rate') * 1024,
            },
            verbose: o.verbose === true,
            prettyLogs: settingsFromEnv(ctx.env).logPretty ?? true,
          },
          ctx.io,
        );
      }),
    'ciu start',
    'ciu --config-dir /tmp/ciu-demo start --port 7300 --ui-port 8300 --ssh-port 2222 --ftp-port 2300',
  );
}
