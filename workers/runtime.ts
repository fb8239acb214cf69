import { Runtime, type LogLevel, type LogMetadata, type Logger as SdkLogger } from '@temporalio/worker';
import { boundText } from '../src/domain/bounded';
import type { Logger } from '../src/logging';

/** Options for the process-wide Temporal runtime. */
export interface RuntimeSetup {
  /** Receives SDK, workflow (`log` from @temporalio/workflow) and activity log lines. */
  logger: Logger;
  /** host:port for the SDK's Prometheus /metrics endpoint; unset = no SDK metrics. */
  metricsBindAddress?: string;
  /**
   * Signals on which the SDK shuts every worker down. Default: the SDK's (SIGINT, SIGTERM, SIGQUIT,
   * SIGUSR2). A process that orders its own shutdown (the `npm start` demo) passes [].
   */
  shutdownSignals?: NodeJS.Signals[];
}

const pinoLevels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** An Error as fields a log line keeps (JSON.stringify makes `{}` of it): name, type, message, cause. */
function errorFields(err: Error): Record<string, unknown> {
  const failure = err as Error & { type?: unknown; nonRetryable?: unknown };
  return {
    name: err.name,
    ...(typeof failure.type === 'string' ? { type: failure.type } : {}),
    message: boundText(err.message),
    ...(failure.nonRetryable === true ? { nonRetryable: true } : {}),
    ...(err.cause instanceof Error ? { cause: errorFields(err.cause) } : {}),
  };
}

/** Writes one SDK log line into pino; Error values among its metadata (the SDK's `error`) keep their text. */
export function sdkLogWriter(logger: Logger): (level: LogLevel, message: string, meta?: LogMetadata) => void {
  return (level, message, meta) =>
    logger[pinoLevels[level]](
      Object.fromEntries(
        Object.entries(meta ?? {}).map(([key, value]) => [
          key,
          value instanceof Error ? errorFields(value) : value,
        ]),
      ),
      message,
    );
}

/** The SDK's logger interface over one function that receives every line with its level. */
export function sdkLogger(write: (level: LogLevel, message: string, meta?: LogMetadata) => void): SdkLogger {
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

/**
 * Installs the Temporal runtime once per process, routing every SDK log — including workflow
 * `log.*` calls, which are the master's structured log — into pino with their metadata as fields.
 */
export function installRuntime({ logger, metricsBindAddress, shutdownSignals }: RuntimeSetup): void {
  const write = sdkLogWriter(logger);
  Runtime.install({
    logger: sdkLogger(write),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(metricsBindAddress ? { metrics: { prometheus: { bindAddress: metricsBindAddress } } } : {}),
    },
    ...(shutdownSignals ? { shutdownSignals } : {}),
  });
}
