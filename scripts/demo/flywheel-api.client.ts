/**
 * The demo's client of the public HTTP API: what an editor app (ingest key) and an ML pipeline (secret key) call.
 * Retries what the API says is transient (503 with Retry-After, a refused connection) a few times; any other
 * unexpected status is an ApiError carrying the API's `{ error: { code, message } }`.
 */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string | null, message: string) {
    super(message);
  }
}

export interface SatisfactionSeries {
  series: { bucket: string; group: Record<string, string | null>; n: number; metrics: Record<string, EstimateView> }[];
}

export interface EstimateView { value: number | null; n: number; low: number | null; high: number | null }

export interface TrainingJob {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  modelId: string | null;
  error: string | null;
  progress: Record<string, unknown> | null;
}

/** A publication of a preference set: the trainer publishes it; `messages` counts what Kafka acknowledged. */
export interface Publication {
  publicationId: string;
  setId: string;
  topic: string;
  status: 'queued' | 'publishing' | 'done' | 'failed';
  messages: number;
  error: string | null;
}

export interface PreferenceSet {
  id: string;
  status: 'queued' | 'building' | 'ready' | 'failed';
  manifest: { counts?: { pairs: number; ties: number; rankings: number; bySource: Record<string, number>; byScope: Record<string, number> }; contentSha256?: string } | null;
  error: string | null;
}

const RETRIES = 5;

export class FlywheelApiClient {
  constructor(readonly baseUrl: string, private readonly ingestKey: string, private readonly secretKey: string) {}

  async postGenerations(generations: unknown[]): Promise<void> {
    for (let i = 0; i < generations.length; i += 1000) {
      await this.request('POST', '/v1/generations', 'ingest', { generations: generations.slice(i, i + 1000) }, [202]);
    }
  }

  async postEvents(events: unknown[]): Promise<void> {
    for (let i = 0; i < events.length; i += 1000) {
      await this.request('POST', '/v1/events', 'ingest', { events: events.slice(i, i + 1000) }, [202]);
    }
  }

  project(): Promise<{ id: string; featureDim: number; events: number }> {
    return this.request('GET', '/v1/project', 'secret');
  }

  /** Whether the worker has stored the generation (GET /v1/videos/:id answers 404 until then). */
  async hasVideo(videoId: string): Promise<boolean> {
    try {
      await this.request('GET', `/v1/videos/${encodeURIComponent(videoId)}`, 'secret');
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      throw error;
    }
  }

  satisfaction(query: Record<string, string>): Promise<SatisfactionSeries> {
    return this.request('GET', `/v1/metrics/satisfaction?${new URLSearchParams(query)}`, 'secret');
  }

  compare(query: Record<string, string>): Promise<{ metrics: { metric: string; baseline: EstimateView; candidate: EstimateView; difference: { value: number | null; low: number | null; high: number | null }; pValue: number | null; significant: boolean }[] }> {
    return this.request('GET', `/v1/metrics/compare?${new URLSearchParams(query)}`, 'secret');
  }

  train(body: Record<string, unknown>): Promise<TrainingJob> {
    return this.request('POST', '/v1/models/train', 'secret', body, [202]);
  }

  job(id: string): Promise<TrainingJob> {
    return this.request('GET', `/v1/models/jobs/${id}`, 'secret');
  }

  model(id: string): Promise<{ id: string; version: number; status: string; metrics: { test?: { accuracy?: number } } | null }> {
    return this.request('GET', `/v1/models/${id}`, 'secret');
  }

  createPreferenceSet(body: Record<string, unknown>): Promise<PreferenceSet> {
    return this.request('POST', '/v1/preference-sets', 'secret', body, [202]);
  }

  preferenceSet(id: string): Promise<PreferenceSet> {
    return this.request('GET', `/v1/preference-sets/${id}`, 'secret');
  }

  /** Queues the set's publication; the trainer publishes it. */
  publish(id: string): Promise<Publication> {
    return this.request('POST', `/v1/preference-sets/${id}/publish`, 'secret', {}, [202]);
  }

  publication(setId: string, publicationId: string): Promise<Publication> {
    return this.request('GET', `/v1/preference-sets/${setId}/publications/${publicationId}`, 'secret');
  }

  registerGenerator(body: { model: string; modelVersion: string; parentVersion?: string; trainedOn: string[]; notes?: string }): Promise<Record<string, unknown>> {
    return this.request('POST', '/v1/generators', 'secret', body, [200, 201]);
  }

  generators(): Promise<Record<string, unknown>[]> {
    return this.request('GET', '/v1/generators', 'secret');
  }

  private async request<T>(method: 'GET' | 'POST', path: string, key: 'ingest' | 'secret', body?: unknown, expected: number[] = [200]): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${key === 'ingest' ? this.ingestKey : this.secretKey}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (attempt < RETRIES) {
          await sleep(500 * attempt);
          continue;
        }
        throw new ApiError(0, 'UNREACHABLE', `${method} ${path}: the API at ${this.baseUrl} is unreachable (${(error as Error).message})`);
      }
      const text = await response.text();
      if (expected.includes(response.status)) return (text ? JSON.parse(text) : null) as T;
      if (response.status === 503 && attempt < RETRIES) {
        await sleep(1000 * Math.min(5, Number(response.headers.get('retry-after')) || 1));
        continue;
      }
      let code: string | null = null;
      let message = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = parsed.error?.code ?? null;
        message = parsed.error?.message ?? message;
      } catch { /* not JSON: keep the text */ }
      throw new ApiError(response.status, code, `${method} ${path} answered ${response.status}${code ? ` ${code}` : ''}: ${message}`);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value (not undefined) or the time is up. */
export async function poll<T>(what: string, timeoutMs: number, intervalMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
