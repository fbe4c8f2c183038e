import { AsyncLocalStorage } from 'node:async_hooks';
import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger } from 'pino';
import { FlywheelConfig, loadConfigOrExit } from './config';

export type { Logger } from 'pino';
export type LogLevel = FlywheelConfig['logLevel'];

/**
 * Fields every line written while `fn` runs carries (the api binds its request id here, so a service's line inside a
 * request names the request).
 */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/**
 * One JSON object a line: `{ level, time, context?, …fields, msg }` — the level by name, an ISO timestamp, fields as
 * fields, and an error under `err` with its type, message, stack and (nested) cause. Lines go to stderr, written
 * synchronously so nothing is lost when a process exits.
 */
export function createLogger(level: LogLevel, destination: DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino({
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.errWithCause },
    // A field the line names itself wins over the context's.
    mixin: (line) => {
      const store = logContext.getStore();
      if (!store) return {};
      return Object.fromEntries(Object.entries(store).filter(([key]) => !(key in line)));
    },
  }, destination);
}

let root: Logger | null = null;

/** The process's logger, at LOG_LEVEL (created on first use). */
export function rootLogger(): Logger {
  return (root ??= createLogger(loadConfigOrExit().logLevel));
}

/** A logger for one class or component: its lines carry `context`. */
export function loggerFor(context: string): Logger {
  return rootLogger().child({ context });
}

/**
 * Nest's LoggerService over pino, so the framework's lines and those of `new Logger(Context)` land in the same
 * stream. A message is a stable phrase, or an object `{ msg, …fields }` whose fields stay fields, or an Error (logged
 * under `err`). Nest puts the context last when the Logger has one, and error(message, stack?, context?).
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger = rootLogger()) {}

  log(message: unknown, ...params: unknown[]): void { this.write('info', message, params); }
  warn(message: unknown, ...params: unknown[]): void { this.write('warn', message, params); }
  debug(message: unknown, ...params: unknown[]): void { this.write('debug', message, params); }
  verbose(message: unknown, ...params: unknown[]): void { this.write('debug', message, params); }
  error(message: unknown, ...params: unknown[]): void { this.write('error', message, params); }
  fatal(message: unknown, ...params: unknown[]): void { this.write('fatal', message, params); }

  private write(level: LogLevel | 'fatal', message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const rest = [...params];
    // The context is the last string; for error() only when a stack slot precedes it (error(message, stack?, context)).
    const hasContext = typeof rest[rest.length - 1] === 'string' && rest.length > (level === 'error' ? 1 : 0);
    const context = hasContext ? (rest.pop() as string) : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const { msg, ...own } = message as Record<string, unknown>;
      this.logger[level]({ ...fields, ...own, ...(stack ? { stack } : {}) }, typeof msg === 'string' ? msg : '');
    } else {
      this.logger[level]({ ...fields, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
