import { topicNames } from '@flywheel/contracts';
import { CreatedProject } from '@flywheel/database';
import { ContractInput, edgeEvents, edgeGenerations, randomEvent, randomGeneration } from './support/contract-inputs';
import { AppProcess, TestContext, post, prng, waitFor } from './support/harness';

/**
 * One definition of valid (invariant 8), as a property over seeded random inputs near the contract's edges: every
 * generation and event the api answers 202 for is stored by the real worker, as sent (nothing dead-lettered,
 * nothing stalls); every one it refuses gets a 400 naming the field that was made invalid. CONTRACT_SEED=<n>
 * replays another run.
 */
const SEED = Number(process.env.CONTRACT_SEED ?? 8);
const GENERATIONS = 120;
const EVENTS = 240;
const DIM = 4;

describe('one definition of valid (property)', () => {
  const ctx = new TestContext('contract');
  let api: AppProcess;
  let project: CreatedProject;

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(DIM);
    [api] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
  }, 60000);
  afterAll(() => ctx.tearDown(), 30000);

  it(`stores what the api accepts and names the field of what it refuses (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const now = Date.now();
    const failures: string[] = [];

    const generationInputs = [...edgeGenerations(random, now, DIM), ...Array.from({ length: GENERATIONS }, (_, n) => randomGeneration(random, n, now, DIM))];
    const generations = await postEach('generations', generationInputs, failures);
    await waitFor(async () => (await storedGenerations(generations)).size === generations.length, 60000, `${generations.length} generations stored`)
      .catch(async (error: Error) => failures.push(`${error.message.split('\n')[0]}: missing ${describeMissing(generations.map((g) => g.videoId as string), await storedGenerations(generations))}`));
    const stored = await storedGenerations(generations);
    for (const g of generations) {
      const row = stored.get(g.videoId as string);
      if (row) compare(`generation ${JSON.stringify(g.videoId).slice(0, 40)}`, row, expectedGeneration(g), failures);
    }

    const videoIds = generations.map((g) => g.videoId as string);
    const eventInputs = [...edgeEvents(now, videoIds), ...Array.from({ length: EVENTS }, (_, n) => randomEvent(random, n, now, videoIds))];
    const events = await postEach('events', eventInputs, failures);
    await waitFor(async () => (await storedEvents(events)).size === events.length, 60000, `${events.length} events stored`)
      .catch(async (error: Error) => failures.push(`${error.message.split('\n')[0]}: missing ${describeMissing(events.map((e) => e.eventId as string), await storedEvents(events))}`));
    const rows = await storedEvents(events);
    for (const e of events) {
      const row = rows.get(e.eventId as string);
      if (row) compare(`event ${JSON.stringify(e.eventId).slice(0, 40)}`, row, expectedEvent(e), failures);
    }

    // Nothing the api accepted was dead-lettered, and the property had both outcomes to check.
    const admin = ctx.kafka.admin();
    await admin.connect();
    const t = topicNames(ctx.prefix);
    for (const dlq of [t.eventsDlq, t.generationsDlq]) {
      const offsets = await admin.fetchTopicOffsets(dlq);
      const count = offsets.reduce((sum, o) => sum + Number(o.high), 0);
      if (count) failures.push(`${count} messages dead-lettered on ${dlq}`);
    }
    await admin.disconnect();
    expect(failures).toEqual([]);
    expect(generations.length).toBeGreaterThan(GENERATIONS / 4);
    expect(events.length).toBeGreaterThan(EVENTS / 4);
    expect(generations.length).toBeLessThan(GENERATIONS);
    expect(events.length).toBeLessThan(EVENTS);
  }, 300000);

  it('accepts and stores a batch larger than one Kafka message can carry (4 MB of generations)', async () => {
    const wide = await ctx.createProject(4096, 'wide');
    const random = prng(SEED);
    const generations = Array.from({ length: 40 }, (_, i) => ({
      videoId: `wide-${i}`, requestId: 'wide', prompt: 'p', model: 'm', modelVersion: '1',
      features: Array.from({ length: 4096 }, () => random() * 2 - 1),
    }));
    const body = JSON.stringify({ generations });
    expect(body.length).toBeGreaterThan(3_000_000); // the broker takes at most 1 MiB per partition batch
    await expect(post(`${api.url}/v1/generations`, wide.ingestKey, body, true)).resolves.toMatchObject({ status: 202, body: { accepted: 40 } });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [wide.projectId])) === 40, 60000, 'wide generations stored');
  }, 120000);

  /** Posts each input alone; returns the accepted ones and records any answer that breaks the property. */
  async function postEach(name: 'events' | 'generations', inputs: ContractInput<Record<string, unknown>>[], failures: string[]) {
    const accepted: Record<string, unknown>[] = [];
    for (const { item, field } of inputs) {
      const response = await post(`${api.url}/v1/${name}`, project.ingestKey, { [name]: [item] });
      const label = `${name} with ${field ?? 'nothing'} = ${JSON.stringify(field ? item[field] : null)?.slice(0, 60)}`;
      if (response.status === 202) {
        accepted.push(item);
      } else if (response.status !== 400) {
        failures.push(`${label}: ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
      } else if (field === null) {
        failures.push(`${label}: a valid item was refused: ${response.body?.error?.message?.slice(0, 200)}`);
      } else {
        const fields: string[] = (response.body?.error?.details ?? []).map((d: { field: string }) => d.field);
        const named = `${name}[0].${field}`;
        if (!fields.some((f) => f === named || f.startsWith(`${named}[`))) failures.push(`${label}: 400 names ${JSON.stringify(fields)}, not ${named}`);
      }
    }
    return accepted;
  }

  async function storedGenerations(generations: Record<string, unknown>[]): Promise<Map<string, Record<string, unknown>>> {
    const rows: Record<string, unknown>[] = await ctx.db.query(
      `SELECT video_id, request_id, prompt, model, model_version, category, segment, duration_ms, uri, features, created_at, fps, num_frames
         FROM generations WHERE project_id = $1 AND video_id = ANY($2::text[])`,
      [project.projectId, generations.map((g) => g.videoId)],
    );
    return new Map(rows.map((r) => [r.video_id as string, r]));
  }

  async function storedEvents(events: Record<string, unknown>[]): Promise<Map<string, Record<string, unknown>>> {
    const rows: Record<string, unknown>[] = await ctx.db.query(
      `SELECT event_id, type, video_id, occurred_at, session_id, request_id, watch_ms, duration_ms, rating, dimension
         FROM feedback_events WHERE project_id = $1 AND event_id = ANY($2::text[])`,
      [project.projectId, events.map((e) => e.eventId)],
    );
    return new Map(rows.map((r) => [r.event_id as string, r]));
  }
});

const opt = (value: unknown) => (value === undefined ? null : value);

function expectedGeneration(g: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id: g.requestId, prompt: g.prompt, model: g.model, model_version: g.modelVersion, category: opt(g.category),
    segment: opt(g.segment), duration_ms: opt(g.durationMs), uri: opt(g.uri),
    // fps is a real: its float32 rounding; num_frames an integer.
    fps: g.fps === undefined || g.fps === null ? null : Math.fround(g.fps as number), num_frames: opt(g.numFrames),
    // real[]: each feature as its float32 rounding.
    features: (g.features as number[]).map((x) => Math.fround(x)),
    ...(g.createdAt ? { created_at: Date.parse(g.createdAt as string) } : {}),
  };
}

function expectedEvent(e: Record<string, unknown>): Record<string, unknown> {
  return {
    type: e.type, video_id: e.videoId, occurred_at: Date.parse(e.occurredAt as string), session_id: opt(e.sessionId),
    request_id: opt(e.requestId), watch_ms: opt(e.watchMs), duration_ms: opt(e.durationMs), rating: opt(e.rating),
    dimension: opt(e.dimension),
  };
}

/** Stored columns against what was sent: numbers as numbers (pg returns float8 as text), instants in ms. */
function compare(label: string, row: Record<string, unknown>, expected: Record<string, unknown>, failures: string[]): void {
  for (const [column, want] of Object.entries(expected)) {
    let got = row[column];
    if (got instanceof Date) got = got.getTime();
    else if (column === 'features') got = (got as number[]).map((x) => Math.fround(Number(x)));
    else if (column === 'fps' && got !== null) got = Math.fround(Number(got));
    else if (typeof want === 'number' && got !== null) got = Number(got);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failures.push(`${label}: ${column} stored ${JSON.stringify(got)?.slice(0, 80)}, sent ${JSON.stringify(want)?.slice(0, 80)}`);
    }
  }
}

function describeMissing(ids: string[], stored: Map<string, unknown>): string {
  const missing = ids.filter((id) => !stored.has(id));
  return `${missing.length} (${missing.slice(0, 5).map((id) => JSON.stringify(id).slice(0, 40)).join(', ')})`;
}
