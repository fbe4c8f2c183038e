import { LoggerService } from '@nestjs/common';
import { loadConfigOrExit } from './config';

const ORDER = { debug: 0, info: 1, warn: 2, error: 3 } as const;
type Level = keyof typeof ORDER;

/**
 * One JSON object a line on stderr: `{ level, time, context, msg }`. Messages are a stable phrase, optionally
 * followed by a JSON object of fields (`batch_dead_lettered {"count":2}`), which is merged into the line.
 */
export class JsonLogger implements LoggerService {
  private readonly threshold: number;

  constructor(level: Level = loadConfigOrExit().logLevel) {
    this.threshold = ORDER[level];
  }

  log(message: unknown, context?: string): void { this.write('info', message, context); }
  warn(message: unknown, context?: string): void { this.write('warn', message, context); }
  debug(message: unknown, context?: string): void { this.write('debug', message, context); }
  verbose(message: unknown, context?: string): void { this.write('debug', message, context); }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    this.write('error', message, context ?? stackOrContext, context ? stackOrContext : undefined);
  }

  private write(level: Level, message: unknown, context?: string, stack?: string): void {
    if (ORDER[level] < this.threshold) return;
    const line: Record<string, unknown> = { level, time: new Date().toISOString(), context };
    const text = message instanceof Error ? message.message : String(message);
    const split = text.indexOf(' {');
    if (split > 0 && text.endsWith('}')) {
      try {
        Object.assign(line, { msg: text.slice(0, split) }, JSON.parse(text.slice(split + 1)));
      } catch {
        line.msg = text;
      }
    } else {
      line.msg = text;
    }
    if (stack) line.stack = stack;
    process.stderr.write(`${JSON.stringify(line)}\n`);
  }
}
