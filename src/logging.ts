import pino, { type Logger } from 'pino';
import { settingsFromEnv } from './settings';

/**
 * The process logger: pino JSON lines on stderr (stdout stays free for command output), level from
 * CIU_LOG_LEVEL (default info); CIU_LOG_PRETTY=1 renders them for humans via pino-pretty.
 * Log with context objects — logger.info({ campaign, controller, attempt }, 'download failed').
 */
export function createLogger(name: string, options: { level?: string; pretty?: boolean } = {}): Logger {
  const settings = settingsFromEnv();
  const level = options.level ?? settings.logLevel;
  const pretty = options.pretty ?? settings.logPretty ?? false;
  if (pretty) {
    return pino({
      name,
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss' } },
    });
  }
  return pino({ name, level }, pino.destination(2));
}

export type { Logger };
