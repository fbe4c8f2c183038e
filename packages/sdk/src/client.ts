import { MAX_EVENTS_PER_BATCH, parseFeedbackBatch } from '@flywheel/contracts';
import type { FieldProblem } from '@flywheel/contracts';
import { MemoryQueueStore } from './memory-store';
import { FlywheelError, GenerationInput, QueueItem, QueueStore, TrackEvent } from './types';

export interface FlywheelOptions {
  /** The project's ingest key (write-only: safe to ship in an app). */
  apiKey: string;
  /** The api's base URL, e.g. `https://flywheel.example.com`. */
  endpoint: string;
  /** Where queued items wait for the api's 202 (default: memory; `init()` in the browser and `createNodeClient()` persist). */
  store?: QueueStore;
  /** Items per request (≤ 1000); a full batch is sent at once. */
  batchSize?: number;
  /** A partial batch waits at most this long. */
  flushIntervalMs?: number;
  /** `track()` throws QUEUE_FULL beyond this many undelivered items; nothing queued is ever dropped to make room. */
  maxQueueSize?: number;
  /** Backoff: the first retry waits about this long, doubling up to `maxRetryDelayMs` (with jitter). */
  baseRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Every problem: rejected keys and events, and (code RETRYING) transient failures that will be retried. */
  onError?: (error: FlywheelError) => void;
  /** Items the api accepted (202): durable in Kafka. */
  onDelivered?: (ids: string[]) => void;
  fetch?: typeof fetch;
  random?: () => number;
}

/** Chromium refuses keepalive bodies beyond 64 KiB in flight: what a page sends as it goes away stays under that. */
const KEEPALIVE_BYTES = 60_000;
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);
const REJECTED = new Set([401, 403, 410]);

/** A random UUID v4 from getRandomValues (randomUUID needs a secure context; pages on http:// are not one). */
export function newEventId(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), or null. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * Feedback from an app to Flywheel, delivered at least once with the same eventIds (so exactly once in effect: the
 * api keeps one row per eventId). `track()` validates and queues an event in the store before it returns; batches
 * go out by size or after `flushIntervalMs`, one request at a time. Transient failures (network, 429, 5xx) are
 * retried with exponential backoff and jitter, never sooner than `Retry-After`; a 400 drops exactly the events it
 * names and reports them; a refused key stops sending (the queue is kept) until `resume()`.
 */
export class FlywheelClient {
  private readonly store: QueueStore;
  private readonly fetch: typeof fetch;
  private readonly random: () => number;
  private readonly opts: Required<Pick<FlywheelOptions, 'batchSize' | 'flushIntervalMs' | 'maxQueueSize' | 'baseRetryDelayMs' | 'maxRetryDelayMs'>>;
  private queue: QueueItem[];
  private readonly ids = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** When each item was tracked (0: due now, e.g. loaded from the store or already sent once). */
  private readonly queuedAt = new Map<string, number>();
  private batchLimit: number;
  private attempt = 0;
  private retryAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;
  private sending: Promise<void> | null = null;
  private stopped: FlywheelError | null = null;
  private closed = false;

  constructor(private readonly options: FlywheelOptions) {
    if (!options.apiKey) throw new FlywheelError('INVALID', 'apiKey is required (the project\'s ingest key)');
    if (!/^https?:\/\//.test(options.endpoint ?? '')) throw new FlywheelError('INVALID', 'endpoint must be an http(s) URL');
    this.opts = {
      batchSize: Math.min(MAX_EVENTS_PER_BATCH, Math.max(1, options.batchSize ?? 100)),
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxQueueSize: options.maxQueueSize ?? 10_000,
      baseRetryDelayMs: options.baseRetryDelayMs ?? 500,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
    };
    this.batchLimit = this.opts.batchSize;
    this.store = options.store ?? new MemoryQueueStore();
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.random = options.random ?? Math.random;
    this.queue = this.store.load();
    for (const item of this.queue) this.ids.add(item.id);
    if (this.queue.length) this.schedule(0);
  }

  /** Validates and queues one event; returns its eventId. Throws FlywheelError INVALID or QUEUE_FULL. */
  track(event: TrackEvent): string {
    const e: Record<string, unknown> = { ...event, eventId: event.eventId ?? newEventId() };
    const at = event.occurredAt ?? new Date();
    e.occurredAt = at instanceof Date ? at.toISOString() : at;
    for (const key of Object.keys(e)) if (e[key] === undefined) delete e[key];
    const parsed = parseFeedbackBatch({ events: [e] });
    if (!parsed.ok) {
      const problems = parsed.problems.map((p) => ({ field: p.field.replace('events[0].', ''), problems: p.problems.map((m) => m.replace('events[0].', '')) }));
      throw new FlywheelError('INVALID', problems[0].problems[0], { problems });
    }
    this.enqueue([{ id: e.eventId as string, kind: 'e', body: parsed.events[0] }]);
    return e.eventId as string;
  }

  /** Queues generated videos (their features must have the project's dimension; the api checks it). */
  registerGenerations(generations: GenerationInput[]): void {
    const items = generations.map((g, i): QueueItem => {
      if (!g || typeof g.videoId !== 'string' || !g.videoId) throw new FlywheelError('INVALID', `generations[${i}].videoId is required`);
      if (!Array.isArray(g.features) || !g.features.every(Number.isFinite)) {
        throw new FlywheelError('INVALID', `generations[${i}].features must be an array of finite numbers`);
      }
      return { id: `g:${g.videoId}`, kind: 'g', body: g };
    });
    this.enqueue(items);
  }

  /** Items not yet accepted by the api. */
  pending(): number {
    return this.queue.length;
  }

  /**
   * Sends what is queued now. Resolves when the queue is empty, or sending had to pause (backoff, a refused key):
   * with the number of items still pending.
   */
  async flush(): Promise<number> {
    while (this.queue.length && !this.stopped && Date.now() >= this.retryAt) {
      await this.pump(true);
      if (!this.sendable().length) break;
    }
    return this.queue.length;
  }

  /**
   * The page is going away (`visibilitychange` to hidden, `pagehide`): sends what fits in keepalive requests, which
   * the browser completes after the page is gone. What does not fit, or is not acknowledged, stays in the store for
   * the next page load.
   */
  flushOnHide(): void {
    if (this.stopped || this.closed) return;
    let budget = KEEPALIVE_BYTES;
    for (;;) {
      const batch = this.nextBatch(budget);
      if (!batch.length) return;
      budget -= JSON.stringify(batch.map((i) => i.body)).length;
      void this.send(batch, true);
    }
  }

  /** Retries now (the network came back), ignoring the backoff that is running. */
  retryNow(): void {
    this.retryAt = 0;
    this.schedule(0);
  }

  /** Starts sending again after a refused key (REJECTED), e.g. with a new key. */
  resume(apiKey?: string): void {
    if (apiKey) this.options.apiKey = apiKey;
    this.stopped = null;
    this.retryNow();
  }

  /** Stops the timers; what is still queued stays in the store. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enqueue(items: QueueItem[]): void {
    // The same eventId tracked twice is one event: it stays queued once.
    const fresh = items.filter((item, i) => !this.ids.has(item.id) && items.findIndex((o) => o.id === item.id) === i);
    if (this.queue.length + fresh.length > this.opts.maxQueueSize) {
      throw new FlywheelError('QUEUE_FULL', `the queue holds ${this.queue.length} undelivered items (maxQueueSize ${this.opts.maxQueueSize}); is the api reachable?`);
    }
    this.store.add(fresh);
    const now = Date.now();
    for (const item of fresh) {
      this.queue.push(item);
      this.ids.add(item.id);
      this.queuedAt.set(item.id, now);
    }
    this.schedule(this.sendable().length >= this.batchLimit ? 0 : this.opts.flushIntervalMs);
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.stopped) return;
    const at = Math.max(Date.now() + delayMs, this.retryAt);
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pump();
    }, at - Date.now());
    // In Node the queue must not keep the process alive: what is left is in the store for the next start.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private pump(force = false): Promise<void> {
    this.sending ??= this.drain(force).finally(() => { this.sending = null; });
    return this.sending;
  }

  /** Sends full batches; a partial one only once its oldest item waited `flushIntervalMs` (or when forced). */
  private async drain(force: boolean): Promise<void> {
    while (!this.stopped) {
      if (Date.now() < this.retryAt) return this.schedule(0);
      const batch = this.nextBatch(Infinity);
      if (!batch.length) return;
      if (!force && batch.length < this.batchLimit) {
        const wait = (this.queuedAt.get(batch[0].id) ?? 0) + this.opts.flushIntervalMs - Date.now();
        if (wait > 0) return this.schedule(wait);
      }
      if (!(await this.send(batch, false))) return;
    }
  }

  private sendable(): QueueItem[] {
    return this.inFlight.size ? this.queue.filter((i) => !this.inFlight.has(i.id)) : this.queue;
  }

  /** The oldest items not in flight, all of one kind, up to the batch limit (and `maxBytes` of JSON). */
  private nextBatch(maxBytes: number): QueueItem[] {
    const batch: QueueItem[] = [];
    let bytes = 0;
    for (const item of this.sendable()) {
      if (batch.length && item.kind !== batch[0].kind) continue;
      const size = maxBytes === Infinity ? 0 : JSON.stringify(item.body).length + 1;
      if (bytes + size > maxBytes) break;
      batch.push(item);
      bytes += size;
      if (batch.length >= this.batchLimit) break;
    }
    return batch;
  }

  /** One request; true if sending may go on with the next batch. */
  private async send(batch: QueueItem[], keepalive: boolean): Promise<boolean> {
    const events = batch[0].kind === 'e';
    const bodies = batch.map((i) => i.body);
    for (const item of batch) {
      this.inFlight.add(item.id);
      this.queuedAt.set(item.id, 0); // whatever happens, it is due from now on
    }
    let response: Response;
    try {
      response = await this.fetch(`${this.options.endpoint.replace(/\/+$/, '')}/v1/${events ? 'events' : 'generations'}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(events ? { events: bodies } : { generations: bodies }),
        credentials: 'omit',
        keepalive,
      });
    } catch (error) {
      return this.retryLater(null, `the api is unreachable (${(error as Error).message})`);
    } finally {
      for (const item of batch) this.inFlight.delete(item.id);
    }
    const status = response.status;
    if (status >= 200 && status < 300) {
      this.delivered(batch);
      return true;
    }
    const body = (await response.json().catch(() => null)) as { error?: { message?: string; details?: unknown } } | null;
    const message = body?.error?.message ?? `the api answered ${status}`;
    if (RETRYABLE.has(status)) return this.retryLater(retryAfterMs(response.headers.get('retry-after')), message, status);
    if (REJECTED.has(status)) {
      this.stopped = new FlywheelError('REJECTED', message, { status });
      this.report(this.stopped);
      return false;
    }
    if (status === 413 && batch.length > 1) {
      this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
      return true;
    }
    // Any other 4xx will not change on a retry: drop the events it names (all of them if it names none), report them.
    const problems = Array.isArray(body?.error?.details) ? (body!.error!.details as FieldProblem[]) : [];
    const named = new Set<number>();
    for (const p of problems) {
      const match = /^(?:events|generations)\[(\d+)\]/.exec(p?.field ?? '');
      if (match) named.add(Number(match[1]));
    }
    const dropped = named.size ? batch.filter((_, i) => named.has(i)) : batch;
    this.forget(dropped);
    this.report(new FlywheelError('INVALID', message, { status, problems, items: dropped }));
    return true;
  }

  private retryLater(retryAfter: number | null, message: string, status?: number): false {
    this.attempt += 1;
    const ceiling = Math.min(this.opts.maxRetryDelayMs, this.opts.baseRetryDelayMs * 2 ** (this.attempt - 1));
    // Equal jitter, and never sooner than the api asked: clients that failed together do not retry together.
    const delay = Math.max(ceiling / 2 + (this.random() * ceiling) / 2, (retryAfter ?? 0) + this.random() * this.opts.baseRetryDelayMs);
    this.retryAt = Date.now() + delay;
    this.report(new FlywheelError('RETRYING', `${message}; retrying in ${Math.round(delay)} ms`, { status, retryInMs: delay }));
    this.schedule(delay);
    return false;
  }

  private delivered(batch: QueueItem[]): void {
    this.attempt = 0;
    this.retryAt = 0;
    this.forget(batch);
    this.options.onDelivered?.(batch.map((i) => i.id));
    if (this.sendable().length) this.schedule(this.sendable().length >= this.batchLimit ? 0 : this.opts.flushIntervalMs);
  }

  private forget(items: QueueItem[]): void {
    const ids = items.map((i) => i.id);
    this.store.remove(ids);
    const gone = new Set(ids);
    this.queue = this.queue.filter((i) => !gone.has(i.id));
    for (const id of ids) {
      this.ids.delete(id);
      this.queuedAt.delete(id);
    }
  }

  private report(error: FlywheelError): void {
    try {
      this.options.onError?.(error);
    } catch {
      // An app's handler that throws must not break delivery.
    }
  }
}
