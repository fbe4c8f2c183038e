/**
 * @jest-environment ./libs/reward-model/src/onnxruntime.jest-environment.js
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { topicNames } from '@flywheel/contracts';
import { CreatedProject, PreferenceSetsRepository } from '@flywheel/database';
import { parallelExport, storedPairs } from '@flywheel/preference-sets';
import { encodePairs, loadRewardGroups, loadTrlKto, loadTrlPreference, loadVideoAlignCsv, parseCsvRecords } from '@flywheel/preferences/testing';
import { RewardScorer } from '@flywheel/reward-model';
import { AppProcess, ROOT, TestContext, get, post, waitFor } from './support/harness';

/**
 * From feedback to preference data and reward models, through the real apps: the trainer trains and registers
 * models, promotion compares on frozen pairs, the api scores with the production model and picks up promotions,
 * preference sets build, export byte-identically, and publish to Kafka (read back with kcat, not kafkajs).
 */
describe('reward models and preference sets', () => {
  const ctx = new TestContext('prefs');
  let api: AppProcess;
  let project: CreatedProject;
  const REQUESTS = 60;
  const quality = (r: number, c: number) => ((r * 7 + c * 13) % 17) / 17; // the latent truth: feature 0

  beforeAll(async () => {
    await ctx.setUp();
    project = await ctx.createProject(4);
    [api] = await Promise.all([ctx.startApi(), ctx.startWorker()]);
    const generations = [];
    const events = [];
    for (let r = 0; r < REQUESTS; r++) {
      for (let c = 0; c < 4; c++) {
        const q = quality(r, c);
        generations.push({
          videoId: `v${r}-${c}`, requestId: `req${r}`, prompt: `prompt ${r % 20}`, model: 'gen', modelVersion: r % 2 ? '1.0' : '2.0',
          uri: c === 0 ? `s3://bucket/v${r}-${c}.mp4` : undefined, category: r % 3 ? 'pets' : 'travel', durationMs: 6000,
          ...(c % 2 ? { fps: 24, numFrames: 144 } : {}),
          features: [q, ((r * c) % 5) / 5, (c % 2) - 0.5, 0.1 * r],
        });
        for (let u = 0; u < 3; u++) {
          const base = { videoId: `v${r}-${c}`, userId: `user${(r + u) % 11}`, occurredAt: new Date(Date.UTC(2026, 10, 20, 10, r, c * 5 + u)).toISOString() };
          events.push({ ...base, eventId: `${r}-${c}-${u}-i`, type: 'impression' });
          events.push({ ...base, eventId: `${r}-${c}-${u}-p`, type: 'progress', watchMs: Math.round(6000 * q), durationMs: 6000 });
          if (q > 0.6) events.push({ ...base, eventId: `${r}-${c}-${u}-l`, type: 'like' });
          if (q < 0.25) events.push({ ...base, eventId: `${r}-${c}-${u}-d`, type: 'discard' });
          if (q > 0.5) events.push({ ...base, eventId: `${r}-${c}-${u}-r`, type: 'rate', rating: q > 0.8 ? 5 : 4, dimension: 'visual_quality' });
        }
      }
    }
    await expect(post(`${api.url}/v1/generations`, project.ingestKey, { generations })).resolves.toMatchObject({ status: 202 });
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM generations WHERE project_id = $1', [project.projectId])) === generations.length, 20000, 'generations');
    for (let i = 0; i < events.length; i += 1000) {
      await expect(post(`${api.url}/v1/events`, project.ingestKey, { events: events.slice(i, i + 1000) })).resolves.toMatchObject({ status: 202 });
    }
    await waitFor(async () => (await ctx.count('SELECT count(*) FROM feedback_events WHERE project_id = $1', [project.projectId])) === events.length, 30000, 'events');
  }, 120000);
  afterAll(() => ctx.tearDown(), 30000);

  const trainOnce = (...args: string[]) => {
    const result = spawnSync(process.execPath, [path.join(ROOT, 'dist/apps/trainer/src/main.js'), '--once', '--project', project.projectId, ...args], { env: ctx.env(), encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`trainer failed: ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop()!);
  };
  const score = (candidates: unknown[]) => post(`${api.url}/v1/score`, project.secretKey, { candidates });

  it('trains, registers, promotes the first model and scores with it through onnxruntime', async () => {
    await expect(score([{ videoId: 'v0-0' }])).resolves.toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    const first = trainOnce('--kind', 'linear', '--seed', '3');
    expect(first).toMatchObject({ status: 'production', version: 1, promotion: expect.stringContaining('first model') });
    expect(first.pairs.train).toBeGreaterThan(20);
    // The latent quality is a feature: the model must beat the random baseline on held-out requests.
    expect(first.metrics.accuracy).toBeGreaterThan(0.75);
    expect(first.baselines.random.accuracy).toBe(0.5);

    const list = await get(`${api.url}/v1/models`, project.secretKey);
    expect(list.body).toEqual([expect.objectContaining({ id: first.modelId, status: 'production', kind: 'linear' })]);
    const scored = await score([{ videoId: 'v1-0' }, { videoId: 'v1-1' }, { videoId: 'v1-2' }, { features: [3, 0.2, 0, 0.1] }]);
    expect(scored.status).toBe(200);
    expect(scored.body.modelId).toBe(first.modelId);
    expect(scored.body.ranking[0]).toBe(3); // the best latent quality wins
    // The downloaded ONNX scores the same as the api (onnxruntime-node, metadata intact).
    const onnx = Buffer.from(await (await fetch(`${api.url}/v1/models/${first.modelId}/onnx`, { headers: { authorization: `Bearer ${project.secretKey}` } })).arrayBuffer());
    const scorer = await RewardScorer.create(onnx);
    expect(scorer.metadata).toMatchObject({ featureDim: 4, modelKind: 'linear' });
    const local = await scorer.score(Float32Array.of(3, 0.2, 0, 0.1), 1);
    expect(local[0]).toBeCloseTo(scored.body.rewards[3].reward, 5);
    await scorer.release();
    const card = await fetch(`${api.url}/v1/models/${first.modelId}/card.md`, { headers: { authorization: `Bearer ${project.secretKey}` } });
    expect(await card.text()).toMatch(/accuracy/i);
  }, 120000);

  it('keeps a candidate that does not beat production by the margin, and promotes on a reasoned override', async () => {
    const second = trainOnce('--kind', 'mlp', '--seed', '5', '--no-promote');
    expect(second).toMatchObject({ status: 'candidate', version: 2 });
    const refused = await post(`${api.url}/v1/models/${second.modelId}/promote`, project.secretKey, { margin: 0.9 });
    expect(refused).toMatchObject({ status: 200, body: { promoted: false, reason: expect.stringMatching(/decisive frozen pairs|not significantly|not better/), statistics: { minPairs: 200 } } });
    expect(refused.body.production).toMatchObject({ accuracy: expect.any(Number) });
    await expect(post(`${api.url}/v1/models/${second.modelId}/promote`, project.secretKey, { force: true })).resolves.toMatchObject({ status: 400 });
    await expect(post(`${api.url}/v1/models/${second.modelId}/promote`, project.ingestKey, {})).resolves.toMatchObject({ status: 403 });
    const forced = await post(`${api.url}/v1/models/${second.modelId}/promote`, project.secretKey, { force: true, reason: 'MLP for the autumn release' });
    expect(forced.body).toMatchObject({ promoted: true, reason: 'manual override: MLP for the autumn release' });
    // A running api picks the promotion up by itself, within seconds.
    await waitFor(async () => (await score([{ videoId: 'v1-0' }])).body.modelId === second.modelId, 15000, 'api serving the promoted model');
    const models = (await get(`${api.url}/v1/models`, project.secretKey)).body;
    expect(models.map((m: any) => m.status)).toEqual(['production', 'retired']);
  }, 120000);

  it('runs queued training jobs in the trainer, and fails a job on too little data with a reason', async () => {
    const empty = await ctx.createProject(4, 'empty');
    const trainer = await ctx.startTrainer();
    const queued = await post(`${api.url}/v1/models/train`, empty.secretKey, { kind: 'linear' });
    expect(queued).toMatchObject({ status: 202, body: { status: 'queued' } });
    await waitFor(async () => ['failed', 'succeeded'].includes((await get(`${api.url}/v1/models/jobs/${queued.body.id}`, empty.secretKey)).body.status), 30000, 'job finished');
    const job = (await get(`${api.url}/v1/models/jobs/${queued.body.id}`, empty.secretKey)).body;
    expect(job).toMatchObject({ status: 'failed', error: expect.stringContaining('not enough preference pairs') });
    await expect(get(`${api.url}/v1/models/jobs/${queued.body.id}`, project.secretKey)).resolves.toMatchObject({ status: 404 });
    await expect(post(`${api.url}/v1/models/train`, empty.secretKey, { kind: 'forest' })).resolves.toMatchObject({ status: 400 });
    // A preference set the trainer could not honour is refused before queueing, naming the field.
    const unknownSet = await post(`${api.url}/v1/models/train`, empty.secretKey, { kind: 'linear', preferenceSetId: '00000000-0000-4000-8000-000000000000' });
    expect(unknownSet).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('preferenceSetId') } } });
    await ctx.stopApp(trainer);
  }, 60000);

  it('rejects bad scoring input by index', async () => {
    const response = await score([{ features: [1, 2] }, { videoId: 'nope' }, {}]);
    expect(response.status).toBe(400);
    const text = JSON.stringify(response.body.error);
    expect(text).toContain('candidates[0].features must have 4 values');
    expect(text).toContain('candidates[1].videoId: no generation nope');
    expect(text).toContain('candidates[2] needs exactly one of videoId or features');
  });

  let setId: string;
  const SET_REQUEST = { scopes: ['request', 'prompt'], minMargin: 0.05, includeTies: true, seed: 7 };
  let trainer: AppProcess | undefined;
  // On a timeout the trainer's output is printed: what it was doing is the first thing to look at.
  const settled = async (id: string) => {
    await waitFor(async () => !['queued', 'building'].includes((await get(`${api.url}/v1/preference-sets/${id}`, project.secretKey)).body.status), 45000, `set ${id} built`, trainer?.child);
    return (await get(`${api.url}/v1/preference-sets/${id}`, project.secretKey)).body;
  };
  it('builds an immutable preference set with a manifest, in the trainer', async () => {
    const created = await post(`${api.url}/v1/preference-sets`, project.secretKey, SET_REQUEST);
    expect(created).toMatchObject({ status: 202, body: { status: 'queued' } });
    setId = created.body.id;
    // The api only queues it: nothing builds until a trainer runs (it stays for the tests below).
    await new Promise((r) => setTimeout(r, 500));
    await expect(get(`${api.url}/v1/preference-sets/${setId}`, project.secretKey)).resolves.toMatchObject({ body: { status: 'queued' } });
    trainer = await ctx.startTrainer();
    const set = await settled(setId);
    expect(set).toMatchObject({ status: 'ready', error: null, attempts: 1 });
    expect(set.manifest).toMatchObject({ schema: 'flywheel.preference-set.v1', policyVersion: 'v2', watchQuantiles: { source: 'default' }, contentSha256: set.contentSha256 });
    const counts = set.manifest.counts;
    expect(counts.pairs).toBeGreaterThan(100);
    expect(counts.bySplit.train + (counts.bySplit.validation ?? 0) + (counts.bySplit.test ?? 0)).toBe(counts.pairs);
    expect(counts.bySource).toEqual({ observed: counts.pairs });
    expect(counts.rankings).toBe(REQUESTS);
    await expect(post(`${api.url}/v1/preference-sets`, project.secretKey, { scopes: ['everything'] })).resolves.toMatchObject({ status: 400 });
  }, 60000);

  const download = async (format: string) => {
    const response = await fetch(`${api.url}/v1/preference-sets/${setId}/export?format=${format}`, { headers: { authorization: `Bearer ${project.secretKey}` } });
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  };

  it('exports the same bytes every time, in every format', async () => {
    const set = (await get(`${api.url}/v1/preference-sets/${setId}`, project.secretKey)).body;
    for (const format of ['dpo-jsonl', 'videoalign-csv', 'ranked-jsonl', 'parquet']) {
      const [a, b] = [await download(format), await download(format)];
      expect(createHash('sha256').update(a).digest('hex')).toBe(createHash('sha256').update(b).digest('hex'));
    }
    // The api encodes jsonl and parquet on worker threads from raw COPY bytes; the row oracle, fed rows, must give
    // the very same bytes, also when batches and row groups are small enough to cut the set in many.
    const sets = ctx.db.make(PreferenceSetsRepository);
    const collect = async (chunks: AsyncIterable<Buffer>) => {
      const parts: Buffer[] = [];
      for await (const chunk of chunks) parts.push(chunk);
      return Buffer.concat(parts);
    };
    const small = { compression: 'UNCOMPRESSED' as const, rowGroupSize: 37, pageSize: 10 };
    for (const format of ['dpo-jsonl', 'pairs-jsonl', 'parquet'] as const) {
      const local = await collect(encodePairs(format, storedPairs(sets, setId)));
      expect((await download(format)).equals(local)).toBe(true);
      const inPieces = await collect(parallelExport(sets, setId, format, { batchRows: 7, parquet: small }));
      const expected = format === 'parquet' ? await collect(encodePairs(format, storedPairs(sets, setId), { parquet: small })) : local;
      expect(inPieces.equals(expected)).toBe(true);
    }
    // More concurrent downloads than MAX_PARALLEL_EXPORTS: the extra ones wait their turn, none is lost or mixed up.
    const concurrent = await Promise.all(Array.from({ length: 5 }, (_, i) => download(i % 2 ? 'parquet' : 'dpo-jsonl')));
    concurrent.forEach((bytes, i) => expect(bytes.equals(concurrent[i % 2])).toBe(true));
    expect(concurrent[0].equals(concurrent[1])).toBe(false);
    const dpo = (await download('dpo-jsonl')).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(dpo.length).toBeLessThanOrEqual(set.manifest.counts.pairs); // DPO has no ties
    expect(dpo[0]).toEqual(expect.objectContaining({ prompt: expect.any(String), chosen: expect.any(String), rejected: expect.any(String), margin: expect.any(Number), source: 'observed', split: expect.any(String) }));
    expect(dpo.some((p) => p.chosen.startsWith('s3://'))).toBe(true); // URIs where known, ids elsewhere
    const csv = (await download('videoalign-csv')).toString().split('\n');
    expect(csv[0]).toMatch(/^path_A,path_B,prompt,VQ,MQ,TA,fps_A/);
    const ranked = (await download('ranked-jsonl')).toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(ranked).toHaveLength(REQUESTS);
    for (const r of ranked) {
      const scores = r.candidates.map((c: any) => c.score);
      expect([...scores].sort((x: number, y: number) => y - x)).toEqual(scores);
    }
    const parquet = await download('parquet');
    expect(parquet.subarray(0, 4).toString()).toBe('PAR1');
    expect(parquet.subarray(-4).toString()).toBe('PAR1');
    await expect(get(`${api.url}/v1/preference-sets/${setId}/export?format=xml`, project.secretKey)).resolves.toMatchObject({ status: 400 });
  }, 60000);

  const fetchExport = async (query: string) => {
    const response = await fetch(`${api.url}/v1/preference-sets/${setId}/export?${query}`, { headers: { authorization: `Bearer ${project.secretKey}` } });
    expect(response.status).toBe(200);
    const header = (name: string) => response.headers.get(`x-flywheel-${name}`)!;
    const counts = { rows: Number(header('rows')), ties: Number(header('ties')), tiesSkipped: Number(header('ties-skipped')), unlabelledSkipped: Number(header('unlabelled-skipped')) };
    return { text: Buffer.from(await response.arrayBuffer()).toString('utf8'), header, counts };
  };

  // The trainers' own loader rules (libs/preferences trainer-loaders.testing.ts, written from VideoAlign's and TRL's
  // loader code) applied to what the api serves: each export loads, and what it leaves out is counted in its headers.
  it('serves exports their trainers load: VideoAlign CSV, TRL DPO/reward and KTO, GRPO groups; nothing dropped silently', async () => {
    const set = (await get(`${api.url}/v1/preference-sets/${setId}`, project.secretKey)).body;
    const dataDir = mkdtempSync(path.join(tmpdir(), 'videoalign-data-'));
    mkdirSync(path.join(dataDir, 'videos'));
    for (let r = 0; r < REQUESTS; r++) for (let c = 0; c < 4; c++) writeFileSync(path.join(dataDir, 'videos', `v${r}-${c}.mp4`), '');

    const csv = await fetchExport('format=videoalign-csv&pathTemplate=videos/{videoId}.mp4');
    expect(csv.header('set-id')).toBe(setId);
    expect(csv.header('content-sha256')).toBe(set.contentSha256);
    expect(csv.header('cli')).toBe(`flywheel sets export ${setId} --format videoalign-csv --path-template videos/{videoId}.mp4`);
    const video = loadVideoAlignCsv(csv.text, { evalDims: ['VQ', 'MQ', 'TA'], dataDir });
    expect(video.rows.length).toBeGreaterThan(20);
    expect(video.rowsWithoutValidLabel).toBe(0); // no row that trains on nothing…
    expect(csv.counts.rows).toBe(set.manifest.counts.pairs);
    expect(video.rows.length + csv.counts.unlabelledSkipped).toBe(csv.counts.rows); // …and the rest counted
    expect(csv.counts.unlabelledSkipped).toBeGreaterThan(0); // only q > 0.5 videos were rated
    const records = parseCsvRecords(csv.text);
    expect(records[0].slice(6)).toEqual(['fps_A', 'num_frames_A', 'fps_B', 'num_frames_B']);
    expect(records.slice(1).some((r) => r[6] === '24' && r[7] === '144')).toBe(true); // declared by the odd candidates
    const decided = video.rows.filter((r) => Math.abs(r.chosenLabel[0]) === 1).length;
    expect(Math.abs(video.aChosenShare - 0.5)).toBeLessThan(2 / Math.sqrt(decided)); // balanced, seeded
    const overall = await fetchExport('format=videoalign-csv&overall=true&pathTemplate=videos/{videoId}.mp4');
    expect(loadVideoAlignCsv(overall.text, { evalDims: ['overall'], dataDir }).rows).toHaveLength(set.manifest.counts.pairs);
    expect(overall.counts.unlabelledSkipped).toBe(0);

    const dpo = await fetchExport('format=dpo-jsonl');
    const { rows: pairs, margins } = loadTrlPreference(dpo.text);
    expect(dpo.counts.tiesSkipped).toBe(set.manifest.counts.ties);
    expect(pairs.length).toBe(dpo.counts.rows - dpo.counts.tiesSkipped); // 22,960 in, 16,535 out is now said
    expect(Math.max(...margins!)).toBeLessThanOrEqual(2); // satisfaction units
    const train = await fetchExport('format=dpo-jsonl&split=train');
    const trainPairs = loadTrlPreference(train.text).rows;
    expect(trainPairs.length).toBeGreaterThan(0);
    expect(trainPairs.every((p) => p.split === 'train')).toBe(true);
    expect(train.counts.rows).toBe(set.manifest.counts.bySplit.train);
    expect(trainPairs.length).toBe(train.counts.rows - train.counts.tiesSkipped);
    expect(train.header('source')).toBe(`/v1/preference-sets/${setId}/export?format=dpo-jsonl&split=train`);

    const kto = await fetchExport('format=kto-jsonl&pathTemplate=videos/{videoId}.mp4');
    const unpaired = loadTrlKto(kto.text);
    expect(unpaired.desirable).toBeGreaterThan(0); // liked (q > 0.6)
    expect(unpaired.undesirable).toBeGreaterThan(0); // discarded (q < 0.25)
    expect(unpaired.rows.length + kto.counts.tiesSkipped).toBe(kto.counts.rows);
    expect(kto.counts.rows).toBe(set.manifest.counts.outcomes);
    for (const row of unpaired.rows) expect(existsSync(path.join(dataDir, row.completion as string))).toBe(true);

    const groups = loadRewardGroups((await fetchExport('format=groups-jsonl')).text);
    expect(groups.groups).toHaveLength(REQUESTS);
    expect(groups.groups[0].candidates[0]).toEqual(expect.objectContaining({ reward: expect.any(Number), rewards: expect.any(Object) }));
    expect(groups.groups.some((g) => g.candidates.some((c: any) => c.rewards.visual_quality !== undefined))).toBe(true);
    expect(loadRewardGroups((await fetchExport('format=groups-jsonl&groupBy=prompt')).text).groups).toHaveLength(20);

    // The same query gives the same bytes (what the headers promise), and bad options are a 400 naming the field.
    expect((await fetchExport('format=kto-jsonl&pathTemplate=videos/{videoId}.mp4')).text).toBe(kto.text);
    const bad = await get(`${api.url}/v1/preference-sets/${setId}/export?format=videoalign-csv&pathTemplate=videos/x.mp4&split=dev`, project.secretKey);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error)).toContain('pathTemplate must contain {videoId}');
    expect(JSON.stringify(bad.body.error)).toContain('split');
    rmSync(dataDir, { recursive: true, force: true });
  }, 60000);

  it('lets no stable user pseudonym leave: session sets carry per-set salted ids, in exports, Kafka and models', async () => {
    // Request pairs too: 11 users split by user alone may leave a split empty, and the model below needs a test split.
    const request = { scopes: ['request', 'session'], minMargin: 0.05, includeTies: false, seed: 7 };
    const ids = [(await post(`${api.url}/v1/preference-sets`, project.secretKey, request)).body.id, (await post(`${api.url}/v1/preference-sets`, project.secretKey, request)).body.id];
    const [a, b] = [await settled(ids[0]), await settled(ids[1])];
    expect(a.status).toBe('ready');
    expect(a.manifest.counts.pairs).toBeGreaterThan(10);
    const hashes: string[] = (await ctx.db.query(`SELECT DISTINCT user_hash FROM video_user_signals WHERE project_id = $1`, [project.projectId])).map((r: { user_hash: string }) => r.user_hash);
    expect(hashes.length).toBe(11);
    const download = async (id: string, format: string) => {
      const response = await fetch(`${api.url}/v1/preference-sets/${id}/export?format=${format}`, { headers: { authorization: `Bearer ${project.secretKey}` } });
      return Buffer.from(await response.arrayBuffer());
    };
    const groupKeys = async (id: string) => new Set((await download(id, 'pairs-jsonl')).toString().trim().split('\n')
      .map((l) => JSON.parse(l).group_key as string).filter((k) => k.startsWith('user:')));
    const [keysA, keysB] = [await groupKeys(a.id), await groupKeys(b.id)];
    expect(keysA.size).toBeGreaterThan(5);
    expect([...keysA].every((k) => /^user:[0-9a-f]{32}$/.test(k))).toBe(true);
    expect(keysA.size).toBe(keysB.size); // the same users…
    expect([...keysA].filter((k) => keysB.has(k))).toEqual([]); // …with ids that do not join across sets
    for (const format of ['pairs-jsonl', 'dpo-jsonl', 'parquet', 'videoalign-csv', 'ranked-jsonl', 'kto-jsonl', 'groups-jsonl']) {
      const bytes = await download(a.id, format);
      for (const hash of hashes) expect(bytes.includes(hash)).toBe(false);
    }
    // A model trained on the set: its ONNX metadata and its card name the set, never a user.
    const model = trainOnce('--kind', 'linear', '--seed', '5', '--preference-set', a.id);
    const onnxResponse = await fetch(`${api.url}/v1/models/${model.modelId}/onnx`, { headers: { authorization: `Bearer ${project.secretKey}` } });
    const onnx = Buffer.from(await onnxResponse.arrayBuffer());
    // …and the file is traceable: named with the model id, its hash and how to fetch it again in the headers.
    expect(onnxResponse.headers.get('content-disposition')).toContain(`reward-model-${model.modelId}-v`);
    expect(onnxResponse.headers.get('x-flywheel-content-sha256')).toBe(createHash('sha256').update(onnx).digest('hex'));
    expect(onnxResponse.headers.get('x-flywheel-cli')).toMatch(new RegExp(`^flywheel models download ${model.modelId} -o `));
    expect(onnx.includes(Buffer.from(a.id))).toBe(true); // metadata_props: preference_set_id
    const card = JSON.stringify((await get(`${api.url}/v1/models/${model.modelId}`, project.secretKey)).body.card)
      + (await (await fetch(`${api.url}/v1/models/${model.modelId}/card.md`, { headers: { authorization: `Bearer ${project.secretKey}` } })).text());
    expect(card).toContain(a.id);
    for (const hash of hashes) {
      expect(onnx.includes(hash)).toBe(false);
      expect(card.includes(hash)).toBe(false);
    }
    // Published to Kafka: the messages carry the stored (salted) keys.
    const queued = await post(`${api.url}/v1/preference-sets/${a.id}/publish`, project.secretKey, {});
    const url = `${api.url}/v1/preference-sets/${a.id}/publications/${queued.body.publicationId}`;
    await waitFor(async () => (await get(url, project.secretKey)).body.status === 'done', 45000, 'publication done', trainer?.child);
    if (spawnSync('which', ['kcat']).status !== 0) execFileSync('bash', ['-c', 'apt-get install -y kcat >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y kcat >/dev/null 2>&1)']);
    const out = execFileSync('kcat', ['-b', ctx.config.kafka.brokers[0], '-C', '-t', topicNames(ctx.prefix).preferences, '-o', 'beginning', '-e', '-q', '-f', '%h\t%k\t%s\n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const mine = out.split('\n').filter((line) => line.includes(`flywheel-set-id=${a.id}`));
    expect(mine.length).toBe(a.manifest.counts.pairs + a.manifest.counts.rankings + 1);
    for (const hash of hashes) expect(mine.some((line) => line.includes(hash))).toBe(false);
    expect(mine.some((line) => [...keysA].some((k) => line.includes(k)))).toBe(true);
  }, 120000);

  it('survives clients that hang up mid-export: the connection of the unfinished COPY is discarded, not reused', async () => {
    const full = await download('parquet');
    // A set big enough (200k pairs, ~30 MB of COPY text) that its COPY is still running when the client hangs up.
    const [big] = await ctx.db.query(`INSERT INTO preference_sets (project_id, filters, status, content_sha256) VALUES ($1, '{}', 'ready', 'x') RETURNING id`, [project.projectId]);
    await ctx.db.query(
      `INSERT INTO preference_pairs (set_id, seq, chosen_id, rejected_id, prompt, margin, weight, tie, scope, group_key, split, source, dimensions)
       SELECT $1, i, 'video-' || i, 'video-b' || i, 'a long enough prompt to make the rows weigh something, #' || i, 0.5, 1, false,
              'request', 'request:' || i, 'train', 'observed', '{}'::jsonb FROM generate_series(0, 199999) AS i`,
      [big.id],
    );
    // More abandoned exports than the api's pool has connections: a reused mid-COPY connection would hang a query.
    for (let i = 0; i < 12; i++) {
      const controller = new AbortController();
      const response = await fetch(`${api.url}/v1/preference-sets/${big.id}/export?format=${i % 2 ? 'parquet' : 'dpo-jsonl'}`, {
        headers: { authorization: `Bearer ${project.secretKey}` }, signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    expect((await download('parquet')).equals(full)).toBe(true);
    await expect(get(`${api.url}/v1/preference-sets`, project.secretKey)).resolves.toMatchObject({ status: 200 });
  }, 60000);

  it('takes over a build whose trainer died: clears its rows and builds the same content', async () => {
    const first = (await get(`${api.url}/v1/preference-sets/${setId}`, project.secretKey)).body;
    // What a trainer killed mid-build leaves: a set `building` under attempt 1, a stale heartbeat, some rows. One
    // statement writes the set and its leftover row, so the running trainer can never claim the set in between (it
    // would start its build at seq 0, and the leftover written after that would collide with or join its rows).
    const [orphan] = await ctx.db.query(
      `WITH orphan AS (
         INSERT INTO preference_sets (project_id, filters, status, attempts, heartbeat_at)
         VALUES ($1, $2, 'building', 1, now() - interval '10 minutes') RETURNING id),
       leftover AS (
         INSERT INTO preference_pairs (set_id, seq, chosen_id, rejected_id, chosen_uri, rejected_uri, prompt, request_id, model_version,
                                       margin, weight, tie, scope, group_key, split, source, dimensions)
         SELECT orphan.id, 0, p.chosen_id, p.rejected_id, p.chosen_uri, p.rejected_uri, 'left over by the dead trainer', p.request_id,
                p.model_version, p.margin, p.weight, p.tie, p.scope, p.group_key, p.split, p.source, p.dimensions
         FROM orphan, (SELECT * FROM preference_pairs WHERE set_id = $3 ORDER BY seq LIMIT 1) p
         RETURNING set_id)
       SELECT orphan.id, (SELECT count(*) FROM leftover)::int AS leftovers FROM orphan`,
      [project.projectId, JSON.stringify(SET_REQUEST), setId],
    );
    expect(orphan.leftovers).toBe(1);
    const rebuilt = await settled(orphan.id);
    expect(rebuilt).toMatchObject({ status: 'ready', attempts: 2, error: null }); // a failure shows its error here
    expect(rebuilt.contentSha256).toBe(first.contentSha256);
    expect(rebuilt.manifest.counts).toEqual(first.manifest.counts);
    await expect(ctx.count(`SELECT count(*) FROM preference_pairs WHERE set_id = $1 AND prompt = 'left over by the dead trainer'`, [orphan.id])).resolves.toBe(0);

    // A set whose builds keep dying is failed with a reason instead of being tried forever.
    const [poison] = await ctx.db.query(
      `INSERT INTO preference_sets (project_id, filters, status, attempts, heartbeat_at)
       VALUES ($1, $2, 'building', 3, now() - interval '10 minutes') RETURNING id`,
      [project.projectId, JSON.stringify(SET_REQUEST)],
    );
    await expect(settled(poison.id)).resolves.toMatchObject({ status: 'failed', attempts: 4, error: expect.stringContaining('build abandoned: 3 attempts') });
  }, 120000);

  it('lets only the attempt that holds a build write its outcome', async () => {
    const sets = ctx.db.make(PreferenceSetsRepository);
    // Fresh heartbeat: the running trainer (60 s lease) leaves it alone; a claim with a 1 s lease takes it over.
    const [row] = await ctx.db.query(
      `INSERT INTO preference_sets (project_id, filters, status, attempts, heartbeat_at)
       VALUES ($1, '{}', 'building', 1, now() - interval '5 seconds') RETURNING id`,
      [project.projectId],
    );
    await expect(sets.heartbeat(row.id, 2)).resolves.toBe(false);
    const claimed = await sets.claimBuild(1000);
    expect(claimed).toMatchObject({ id: row.id, status: 'building', attempts: 2 });
    await expect(sets.heartbeat(row.id, 1)).resolves.toBe(false); // the old attempt learns it lost the set
    await expect(sets.finish(row.id, {}, 'stale', 1)).resolves.toBe(false);
    await sets.fail(row.id, 'stale attempt failing', 1);
    await expect(sets.heartbeat(row.id, 2)).resolves.toBe(true);
    await expect(sets.finish(row.id, { counts: {} }, 'fresh', 2)).resolves.toBe(true);
    await expect(get(`${api.url}/v1/preference-sets/${row.id}`, project.secretKey)).resolves.toMatchObject({ body: { status: 'ready', contentSha256: 'fresh', error: null } });
    await expect(sets.claimBuild(1000)).resolves.toBeNull();
  });

  it('fails an export whose worker dies or errs, instead of hanging or writing a short file', async () => {
    const sets = ctx.db.make(PreferenceSetsRepository);
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-worker-'));
    const dies = path.join(dir, 'dies.js');
    writeFileSync(dies, 'process.exit(3);\n');
    const errs = path.join(dir, 'errs.js');
    writeFileSync(errs, "require('node:worker_threads').parentPort.on('message', (t) => require('node:worker_threads').parentPort.postMessage({ id: t.id, error: 'bad row' }));\n");
    const drain = async (script: string) => {
      for await (const _ of parallelExport(sets, setId, 'parquet', { workerScript: script })) { /* consume */ }
    };
    await expect(drain(dies)).rejects.toThrow('export worker exited with code 3');
    await expect(drain(errs)).rejects.toThrow('export worker: bad row');
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes to flywheel.preferences.v1 with stable message ids, read back by kcat', async () => {
    if (spawnSync('which', ['kcat']).status !== 0) execFileSync('bash', ['-c', 'apt-get install -y kcat >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y kcat >/dev/null 2>&1)']);
    const set = (await get(`${api.url}/v1/preference-sets/${setId}`, project.secretKey)).body;
    // The trainer publishes: the api answers 202 with the publication, polled until done.
    const published = async () => {
      const queued = await post(`${api.url}/v1/preference-sets/${setId}/publish`, project.secretKey, {});
      expect(queued).toMatchObject({ status: 202, body: { status: 'queued' } });
      const url = `${api.url}/v1/preference-sets/${setId}/publications/${queued.body.publicationId}`;
      await waitFor(async () => (await get(url, project.secretKey)).body.status === 'done', 45000, 'publication done', trainer?.child);
      return get(url, project.secretKey);
    };
    const first = await published();
    expect(first).toMatchObject({ status: 200, body: { status: 'done', messages: set.manifest.counts.pairs + set.manifest.counts.rankings + 1 } });
    await published();

    const topic = topicNames(ctx.prefix).preferences;
    const out = execFileSync('kcat', ['-b', ctx.config.kafka.brokers[0], '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%h\t%k\t%s\n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    // Only this set's messages: other sets of this file publish to the same topic.
    const messages = out.trim().split('\n').filter((line) => line.includes(`flywheel-set-id=${setId},`)).map((line) => {
      const [headers, key, value] = line.split('\t');
      return { headers, key, value: JSON.parse(value) };
    });
    expect(messages).toHaveLength(2 * first.body.messages);
    const ids = messages.map((m) => m.value.message_id);
    const perPublication = new Set(ids);
    expect(perPublication.size).toBe(first.body.messages); // the second publication repeats exactly the same ids
    const markers = messages.filter((m) => m.value.kind === 'complete');
    expect(markers).toHaveLength(2);
    expect(markers[0].value.manifest.contentSha256).toBe(set.contentSha256);
    const pair = messages.find((m) => m.value.kind === 'pair')!;
    expect(pair.headers).toContain(`flywheel-set-id=${setId}`);
    expect(pair.headers).toContain('flywheel-format=flywheel.preferences.v1');
    expect(pair.key).toBe(pair.value.request_id ?? pair.value.group_key);
  }, 120000);

  it('records generator lineage and compares the new version with its parent', async () => {
    await expect(post(`${api.url}/v1/generators`, project.secretKey, { model: 'gen', modelVersion: '1.0' })).resolves.toMatchObject({ status: 201 });
    const child = await post(`${api.url}/v1/generators`, project.secretKey, { model: 'gen', modelVersion: '2.0', parentVersion: '1.0', trainedOn: [setId], notes: 'DPO on the first set' });
    expect(child).toMatchObject({ status: 201, body: { modelVersion: '2.0', parentVersion: '1.0', trainedOn: [setId] } });
    await expect(post(`${api.url}/v1/generators`, project.secretKey, { model: 'gen', modelVersion: '3.0', trainedOn: ['00000000-0000-4000-8000-000000000000'] })).resolves.toMatchObject({ status: 400 });
    const lineage = (await get(`${api.url}/v1/generators`, project.secretKey)).body;
    expect(lineage.map((g: any) => g.modelVersion)).toEqual(['1.0', '2.0']);
    const compare = await get(`${api.url}/v1/metrics/compare?baseline=1.0&candidate=2.0&from=2026-11-19T00:00:00Z&to=2026-11-22T00:00:00Z`, project.secretKey);
    expect(compare.status).toBe(200);
    expect(compare.body.metrics.find((m: any) => m.metric === 'satisfaction')).toMatchObject({ difference: expect.objectContaining({ value: expect.any(Number) }) });
  });
});
