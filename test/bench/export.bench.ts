/*
 * `npm run bench:export -- --pairs N` (default 1,000,000): a preference set of N pairs (and N per-video outcomes,
 * four candidates a request) in a scratch database, exported the way GET /v1/preference-sets/:id/export streams it
 * (one COPY … TO STDOUT → encoder → sink, in-process, /dev/null as the sink) as dpo-jsonl, parquet, kto-jsonl and
 * groups-jsonl; in the same run `psql \copy` of the same pair rows (same columns, same order) to CSV is the ceiling.
 * Each export runs in a process of its own; its peak RSS is sampled every 20 ms. All five measurements run
 * `--rounds` times (default 3), interleaved; the table and the JSON give medians.
 * Last line: {"pairs","jsonlPairsPerSec","parquetPairsPerSec","psqlPairsPerSec","ktoRowsPerSec","groupsRowsPerSec","peakRssMb"}.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '@flywheel/config';
import { PreferenceSetsRepository, ProjectsRepository, createDataSource, createProjectWithKeys, dropDatabase, migrate } from '@flywheel/database';
import { encodeStoredSet } from '@flywheel/preference-sets';

/** `--export FORMAT --set ID`: one export of an existing set in this process; prints its time and peak RSS. */
type BenchFormat = 'dpo-jsonl' | 'parquet' | 'kto-jsonl' | 'groups-jsonl';
const FORMATS: readonly BenchFormat[] = ['dpo-jsonl', 'parquet', 'kto-jsonl', 'groups-jsonl'];

async function exportOnce(format: BenchFormat, setId: string): Promise<void> {
  const db = createDataSource(loadConfig().database, { poolSize: 2 });
  await db.initialize();
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  // memoryUsage.rss() reads one number; memoryUsage() walks every heap space, which cost ~70 ms of this thread a run
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 20);
  const started = process.hrtime.bigint();
  await pipeline(Readable.from(encodeStoredSet(new PreferenceSetsRepository(db), setId, format)), createWriteStream('/dev/null'));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  await db.destroy();
  process.stdout.write(`${JSON.stringify({ seconds, peakRss, baseRss })}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pairs: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' }, export: { type: 'string' }, set: { type: 'string' } } });
  if (values.export) return exportOnce(values.export as BenchFormat, values.set!);
  const pairs = Number(values.pairs);
  const rounds = Number(values.rounds);
  process.env.PGDATABASE = `flywheel_bench_${randomBytes(4).toString('hex')}`;
  const config = loadConfig();
  await migrate(config.database);
  const db = createDataSource(config.database, { poolSize: 2 });
  await db.initialize();
  let exitCode = 0;
  try {
    const project = await createProjectWithKeys(new ProjectsRepository(db), 'bench', 8);
    const sets = new PreferenceSetsRepository(db);
    const set = await sets.create(project.projectId, {});
    const seedStarted = Date.now();
    await db.query(
      `INSERT INTO preference_pairs (set_id, seq, chosen_id, rejected_id, chosen_uri, rejected_uri, prompt, request_id,
              model_version, margin, weight, tie, scope, group_key, split, source, dimensions)
       SELECT $1, i, 'video-' || (i * 2), 'video-' || (i * 2 + 1),
              CASE WHEN i % 3 = 0 THEN 's3://videos/' || (i * 2) || '.mp4' END, NULL,
              'a ' || (ARRAY['cat','dog','fox','robot'])[1 + i % 4] || ' surfing, "cinematic" shot #' || (i % 5000)
                || CASE WHEN i % 10 = 0 THEN ' — «néon» ✨' ELSE '' END,
              'req-' || (i / 4), 'gen-1.' || (i % 3), (i % 97) / 97.0, 1, i % 50 = 0, 'request', 'request:req-' || (i / 4),
              (ARRAY['train','train','train','train','train','train','train','train','validation','test'])[1 + (i / 4) % 10],
              'observed', CASE WHEN i % 7 = 0 THEN '{"visual_quality": 1.5}'::jsonb ELSE '{}'::jsonb END
         FROM generate_series(0, $2 - 1) AS i`,
      [set.id, pairs],
    );
    // One outcome per video of the pairs' requests (four a request), a third labelled liked, a third disliked.
    await db.query(
      `INSERT INTO preference_outcomes (set_id, seq, video_id, request_id, prompt, prompt_norm, uri, model_version, split, n,
              reward, rewards, positive, negative, label, fps, num_frames)
       SELECT $1, i, 'video-' || i, 'req-' || (i / 4), 'a ' || (ARRAY['cat','dog','fox','robot'])[1 + (i / 4) % 4] || ' surfing #' || (i / 4),
              'a ' || (ARRAY['cat','dog','fox','robot'])[1 + (i / 4) % 4] || ' surfing #' || (i / 4),
              CASE WHEN i % 3 = 0 THEN 's3://videos/' || i || '.mp4' END, 'gen-1.' || (i % 3),
              (ARRAY['train','train','train','train','train','train','train','train','validation','test'])[1 + (i / 4) % 10],
              1 + i % 7, ((i % 201) - 100) / 100.0,
              CASE WHEN i % 2 = 0 THEN jsonb_build_object('visual_quality', ((i % 5) - 2) / 2.0, 'motion_quality', ((i % 3) - 1) / 2.0) ELSE '{}'::jsonb END,
              CASE WHEN i % 3 = 0 THEN 2 ELSE 0 END, CASE WHEN i % 3 = 1 THEN 1 ELSE 0 END,
              CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END, CASE WHEN i % 2 = 1 THEN 24 END, CASE WHEN i % 2 = 1 THEN 144 END
         FROM generate_series(0, $2 - 1) AS i`,
      [set.id, pairs],
    );
    await db.query(`ANALYZE preference_pairs`);
    await db.query(`ANALYZE preference_outcomes`);
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    // Each export runs in a process of its own, as a request would in a fresh api: its peak RSS is its own. The three
    // measurements are interleaved, `--rounds` times, and medians compared: the machine is shared and noisy.
    const exportIn = (format: BenchFormat) => JSON.parse(execFileSync(process.execPath,
      [__filename, '--export', format, '--set', set.id], { encoding: 'utf8', env: process.env }).trim().split('\n').pop()!) as { seconds: number; peakRss: number; baseRss: number };
    const columns = 'chosen_id, rejected_id, chosen_uri, rejected_uri, prompt, request_id, model_version, margin, weight, tie, scope, group_key, split, source, dimensions';
    const psql = () => {
      const started = process.hrtime.bigint();
      execFileSync('psql', ['-h', config.database.host, '-p', String(config.database.port), '-U', config.database.user, '-d', config.database.name, '-q', '-c',
        `\\copy (SELECT ${columns} FROM preference_pairs WHERE set_id = '${set.id}' ORDER BY seq) TO '/dev/null' CSV`], { stdio: 'inherit' });
      return Number(process.hrtime.bigint() - started) / 1e9;
    };
    const runs: Record<BenchFormat | 'psql', number[]> = { 'dpo-jsonl': [], parquet: [], 'kto-jsonl': [], 'groups-jsonl': [], psql: [] };
    const rss: Record<BenchFormat, number> = { 'dpo-jsonl': 0, parquet: 0, 'kto-jsonl': 0, 'groups-jsonl': 0 };
    let baseRss = 0;
    for (let round = 0; round < rounds; round++) {
      for (const format of FORMATS) {
        const run = exportIn(format);
        runs[format].push(run.seconds);
        rss[format] = Math.max(rss[format], run.peakRss);
        baseRss = Math.max(baseRss, run.baseRss);
      }
      runs.psql.push(psql());
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const seconds = Object.fromEntries(Object.entries(runs).map(([k, xs]) => [k, median(xs)])) as Record<BenchFormat | 'psql', number>;
    const peakRss = Math.max(...Object.values(rss));

    const rate = (s: number) => Math.round(pairs / s);
    const all = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
    const row = (what: string, s: number, unit: string, note: string) =>
      `${what.padEnd(34)} ${s.toFixed(2).padStart(8)} s ${rate(s).toLocaleString('en-US').padStart(12)} ${unit.padEnd(9)} ${note}`;
    const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
    const vsPsql = (format: BenchFormat) => `${(rate(seconds[format]) / rate(seconds.psql)).toFixed(2)}× psql   runs: ${all(runs[format])} s   peak RSS ${mb(rss[format])} MB`;
    process.stdout.write([
      `bench:export — ${pairs.toLocaleString('en-US')} pairs and ${pairs.toLocaleString('en-US')} outcomes (seeded in ${seedSeconds.toFixed(1)} s), median of ${rounds} interleaved rounds`,
      row('dpo-jsonl (COPY → 2 workers)', seconds['dpo-jsonl'], 'pairs/s', vsPsql('dpo-jsonl')),
      row('parquet (COPY → 2 workers)', seconds.parquet, 'pairs/s', vsPsql('parquet')),
      row('kto-jsonl (COPY → row encoder)', seconds['kto-jsonl'], 'videos/s', vsPsql('kto-jsonl')),
      row('groups-jsonl (COPY → row encoder)', seconds['groups-jsonl'], 'videos/s', vsPsql('groups-jsonl')),
      row('ceiling: psql \\copy pairs to CSV', seconds.psql, 'pairs/s', `same rows, same order   runs: ${all(runs.psql)} s`),
      `the exporting process holds ~${mb(baseRss)} MB before exporting; peak RSS over all exports ${mb(peakRss)} MB`,
      '',
    ].join('\n'));
    process.stdout.write(`${JSON.stringify({
      pairs, jsonlPairsPerSec: rate(seconds['dpo-jsonl']), parquetPairsPerSec: rate(seconds.parquet), psqlPairsPerSec: rate(seconds.psql),
      ktoRowsPerSec: rate(seconds['kto-jsonl']), groupsRowsPerSec: rate(seconds['groups-jsonl']), peakRssMb: Math.round(peakRss / 1048576),
    })}\n`);
  } catch (error) {
    process.stderr.write(`bench:export failed: ${(error as Error).stack}\n`);
    exitCode = 1;
  } finally {
    await db.destroy();
    await dropDatabase(config.database).catch(() => undefined);
  }
  process.exit(exitCode);
}

void main();
