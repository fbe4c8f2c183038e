/*
 * `npm run bench:export -- --pairs N` (default 1,000,000): a preference set of N pairs in a scratch database,
 * exported the way GET /v1/preference-sets/:id/export streams it (one COPY … TO STDOUT → encoder → sink,
 * in-process, /dev/null as the sink) as dpo-jsonl and as parquet; in the same run `psql \copy` of the same rows
 * (same columns, same order) to CSV is the ceiling. Peak RSS is sampled every 20 ms over the exports.
 * Each of the three runs `--rounds` times (default 3), interleaved; the table and the JSON give medians.
 * Last line: {"pairs","jsonlPairsPerSec","parquetPairsPerSec","psqlPairsPerSec","peakRssMb"}.
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
async function exportOnce(format: 'dpo-jsonl' | 'parquet', setId: string): Promise<void> {
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
  if (values.export) return exportOnce(values.export as 'dpo-jsonl' | 'parquet', values.set!);
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
    await db.query(`ANALYZE preference_pairs`);
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    // Each export runs in a process of its own, as a request would in a fresh api: its peak RSS is its own. The three
    // measurements are interleaved, `--rounds` times, and medians compared: the machine is shared and noisy.
    const exportIn = (format: 'dpo-jsonl' | 'parquet') => JSON.parse(execFileSync(process.execPath,
      [__filename, '--export', format, '--set', set.id], { encoding: 'utf8', env: process.env }).trim().split('\n').pop()!) as { seconds: number; peakRss: number; baseRss: number };
    const columns = 'chosen_id, rejected_id, chosen_uri, rejected_uri, prompt, request_id, model_version, margin, weight, tie, scope, group_key, split, source, dimensions';
    const psql = () => {
      const started = process.hrtime.bigint();
      execFileSync('psql', ['-h', config.database.host, '-p', String(config.database.port), '-U', config.database.user, '-d', config.database.name, '-q', '-c',
        `\\copy (SELECT ${columns} FROM preference_pairs WHERE set_id = '${set.id}' ORDER BY seq) TO '/dev/null' CSV`], { stdio: 'inherit' });
      return Number(process.hrtime.bigint() - started) / 1e9;
    };
    const runs = { jsonl: [] as number[], parquet: [] as number[], psql: [] as number[] };
    const rss = { jsonl: 0, parquet: 0, base: 0 };
    for (let round = 0; round < rounds; round++) {
      const jsonl = exportIn('dpo-jsonl');
      const parquet = exportIn('parquet');
      runs.jsonl.push(jsonl.seconds);
      runs.parquet.push(parquet.seconds);
      runs.psql.push(psql());
      rss.jsonl = Math.max(rss.jsonl, jsonl.peakRss);
      rss.parquet = Math.max(rss.parquet, parquet.peakRss);
      rss.base = Math.max(rss.base, jsonl.baseRss, parquet.baseRss);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const [jsonlSeconds, parquetSeconds, psqlSeconds] = [median(runs.jsonl), median(runs.parquet), median(runs.psql)];
    const peakRss = Math.max(rss.jsonl, rss.parquet);

    const rate = (seconds: number) => Math.round(pairs / seconds);
    const all = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' / ');
    const row = (what: string, seconds: number, note: string) =>
      `${what.padEnd(30)} ${seconds.toFixed(2).padStart(8)} s ${rate(seconds).toLocaleString('en-US').padStart(12)} pairs/s  ${note}`;
    const mb = (bytes: number) => (bytes / 1048576).toFixed(0);
    process.stdout.write([
      `bench:export — ${pairs.toLocaleString('en-US')} pairs (seeded in ${seedSeconds.toFixed(1)} s), median of ${rounds} interleaved rounds`,
      row('dpo-jsonl (COPY → encoder)', jsonlSeconds, `${(rate(jsonlSeconds) / rate(psqlSeconds)).toFixed(2)}× psql   runs: ${all(runs.jsonl)} s`),
      row('parquet (COPY → encoder)', parquetSeconds, `${(rate(parquetSeconds) / rate(psqlSeconds)).toFixed(2)}× psql   runs: ${all(runs.parquet)} s`),
      row('ceiling: psql \\copy to CSV', psqlSeconds, `same rows, same order   runs: ${all(runs.psql)} s`),
      `peak RSS of the exporting process: dpo-jsonl ${mb(rss.jsonl)} MB, parquet ${mb(rss.parquet)} MB (it holds ~${mb(rss.base)} MB before exporting)`,
      '',
    ].join('\n'));
    process.stdout.write(`${JSON.stringify({
      pairs, jsonlPairsPerSec: rate(jsonlSeconds), parquetPairsPerSec: rate(parquetSeconds), psqlPairsPerSec: rate(psqlSeconds),
      peakRssMb: Math.round(peakRss / 1048576),
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
