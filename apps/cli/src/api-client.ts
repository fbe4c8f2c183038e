import { FlywheelError } from '@flywheel/errors';
import { Writable } from 'node:stream';

/** A failure the CLI reports and exits with (EXIT); the api's own error code, when there was one, is in details. */
export class CliError extends FlywheelError<'CLI_FAILED'> {
  constructor(message: string, readonly exitCode: number, options: { details?: unknown; cause?: unknown } = {}) {
    super('CLI_FAILED', message, options);
  }
}

type ErrorBody = { error?: { code?: string; message?: string } } | null;

export const EXIT = { failed: 1, usage: 2, unavailable: 3, notFound: 4, rejected: 5 } as const;

/** The HTTP API as the CLI sees it: a secret key, JSON in and out, errors turned into messages that say what to do. */
export class ApiClient {
  constructor(private readonly baseUrl: string, private readonly key: string | null) {}

  async json<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(method, path, body);
    const text = await response.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!response.ok) throw this.error(response.status, parsed);
    return parsed as T;
  }

  /** Streams a response body to `sink`, reporting bytes as they arrive. */
  async download(
    path: string, sink: Writable, onBytes: (total: number) => void, onHeaders?: (headers: Headers) => void, onChunk?: (chunk: Uint8Array) => void,
  ): Promise<number> {
    const response = await this.request('GET', path);
    if (!response.ok) throw this.error(response.status, (await response.json().catch(() => null)) as ErrorBody);
    onHeaders?.(response.headers);
    let total = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      onChunk?.(chunk);
      if (!sink.write(chunk)) await new Promise((resolve) => sink.once('drain', resolve));
      onBytes(total);
    }
    await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return total;
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    if (!this.key) {
      throw new CliError('no API key: pass --key <secret key> or set FLYWHEEL_API_KEY (`flywheel project create` prints one)', EXIT.usage);
    }
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      throw new CliError(`cannot reach the api at ${this.baseUrl} (${(cause as Error).message}): start it with \`npm run quickstart\` or set FLYWHEEL_API_URL`, EXIT.unavailable);
    }
  }

  private error(status: number, body: ErrorBody): CliError {
    const message = body?.error?.message ?? `the api answered ${status}`;
    if (status === 401) return new CliError(`${message}: check --key / FLYWHEEL_API_KEY`, EXIT.usage);
    if (status === 403) return new CliError(`${message}: use the project's secret key, not its ingest key`, EXIT.usage);
    if (status === 404) return new CliError(message, EXIT.notFound);
    if (status === 503) return new CliError(`${message} (the api is up but a dependency is not)`, EXIT.unavailable);
    if (status >= 400 && status < 500) return new CliError(message, EXIT.rejected);
    return new CliError(message, EXIT.failed);
  }
}

/** A one-line progress bar on stderr when it is a terminal; silent otherwise (CI logs, --json). */
export class Progress {
  private readonly enabled: boolean;

  constructor(private readonly label: string, quiet = false) {
    this.enabled = !quiet && Boolean(process.stderr.isTTY);
  }

  update(fraction: number | null, detail = ''): void {
    if (!this.enabled) return;
    const width = 28;
    const bar = fraction === null ? '' : `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}% `;
    process.stderr.write(`\r${this.label} ${bar}${detail}`.padEnd(100).slice(0, 100));
  }

  done(detail = ''): void {
    if (!this.enabled) return;
    process.stderr.write(`\r${`${this.label} ${detail}`.padEnd(100)}\n`);
  }
}
