import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { PARQUET_CREATED_BY, PARQUET_PAIR_COLUMNS, PARQUET_SCHEMA_ID } from './parquet.encoder';
import { encodeParquet } from './row-encoders.testing';
import { ROWS, pairRow } from './pair-rows.testing';
import type { PreferencePairRow } from './preference.types';

const REPO_ROOT = resolve(__dirname, '../../..');

/**
 * Reads a file with hyparquet, an implementation independent of the writer, in a child process: hyparquet is an ES
 * module, which jest's CommonJS runtime cannot load.
 */
async function readWithHyparquet(path: string): Promise<{ rows: Record<string, unknown>[]; createdBy: string; kv: unknown; rowGroups: number }> {
  const script = `
    import { parquetMetadata, parquetReadObjects } from 'hyparquet';
    import { readFileSync } from 'node:fs';
    const b = readFileSync(process.argv[1]);
    const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    const md = parquetMetadata(file);
    const rows = await parquetReadObjects({ file });
    process.stdout.write(JSON.stringify({ rows, createdBy: md.created_by, kv: md.key_value_metadata, rowGroups: md.row_groups.length }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, path], {
    cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout);
}

/** Reads a file with DuckDB (C++), a second reader independent of the writer: rows, and per-chunk statistics. */
async function readWithDuckDb(path: string) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const query = async (sql: string) => (await connection.runAndReadAll(sql)).getRowObjectsJson();
    return {
      rows: await query(`SELECT * FROM read_parquet('${path}')`),
      chunks: await query(`SELECT row_group_id, path_in_schema, stats_min_value, stats_max_value, stats_null_count, compression
                             FROM parquet_metadata('${path}') ORDER BY row_group_id, column_id`),
      schema: await query(`SELECT name, type, repetition_type, converted_type FROM parquet_schema('${path}')`),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function encode(rows: PreferencePairRow[], options = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of encodeParquet(rows, options)) parts.push(chunk);
  return Buffer.concat(parts);
}

/** What hyparquet reads back for ROWS plus one session pair without URIs. */
const EXPECTED = [
  {
    prompt: 'a cat surfing', chosen: 's3://bucket/v1.mp4', rejected: 's3://bucket/v2.mp4', chosen_video_id: 'v1',
    rejected_video_id: 'v2', chosen_uri: 's3://bucket/v1.mp4', rejected_uri: 's3://bucket/v2.mp4', request_id: 'r1',
    model_version: 'gen-2.1', margin: 0.25, weight: 1, tie: false, scope: 'request', group_key: 'request:r1',
    split: 'train', source: 'observed', dimensions: '{"motion_quality":-0.5,"text_alignment":0,"visual_quality":1.5}',
  },
  {
    prompt: 'a "quoted", comma\nnewline prompt — ünïcode 🐈', chosen: 'v3', rejected: 's3://bucket/v2.mp4',
    chosen_video_id: 'v3', rejected_video_id: 'v4', chosen_uri: null, rejected_uri: 's3://bucket/v2.mp4',
    request_id: null, model_version: null, margin: 0.123457, weight: 0.666667, tie: false, scope: 'prompt',
    group_key: 'prompt:x', split: 'test', source: 'observed', dimensions: '{"visual_quality":-2}',
  },
  {
    prompt: 'a cat surfing', chosen: 's3://bucket/v1.mp4', rejected: 's3://bucket/v2.mp4', chosen_video_id: 'v5',
    rejected_video_id: 'v6', chosen_uri: 's3://bucket/v1.mp4', rejected_uri: 's3://bucket/v2.mp4', request_id: 'r1',
    model_version: 'gen-2.1', margin: 0.01, weight: 1, tie: true, scope: 'request', group_key: 'request:r1',
    split: 'validation', source: 'reward_model', dimensions: '{}',
  },
  {
    prompt: 'a cat surfing', chosen: 'v7', rejected: 'v8', chosen_video_id: 'v7', rejected_video_id: 'v8',
    chosen_uri: null, rejected_uri: null, request_id: 'r1', model_version: 'gen-2.1', margin: 0.25, weight: 1,
    tie: false, scope: 'session', group_key: 'user:h', split: 'train', source: 'observed', dimensions: '{}',
  },
];

describe('parquet export', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flywheel-parquet-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips every column through an independent reader (hyparquet)', async () => {
    const rows = [...ROWS, pairRow({ chosenId: 'v7', rejectedId: 'v8', chosenUri: null, rejectedUri: null, scope: 'session', groupKey: 'user:h' })];
    // One group of one page; two groups of one page; two groups of two pages (one all-null, one mixed levels).
    const layouts = [{}, { rowGroupSize: 2, pageSize: 2 }, { rowGroupSize: 2, pageSize: 1, compression: 'UNCOMPRESSED' as const }];
    for (const [i, layout] of layouts.entries()) {
      const path = join(dir, `pairs-${i}.parquet`);
      await writeFile(path, await encode(rows, layout));
      const read = await readWithHyparquet(path);
      expect(read.createdBy).toBe(PARQUET_CREATED_BY);
      expect(read.kv).toEqual([{ key: 'flywheel.schema', value: PARQUET_SCHEMA_ID }]);
      expect(read.rowGroups).toBe(i === 0 ? 1 : 2);
      expect(read.rows.map((r) => Object.keys(r))).toEqual(rows.map(() => [...PARQUET_PAIR_COLUMNS]));
      expect(read.rows).toEqual(EXPECTED);
    }
  });

  it('round-trips many rows over several row groups, compressed or not', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => pairRow({
      chosenId: `c${i}`, rejectedId: `r${i}`, margin: i / 1000, tie: i % 10 === 0, chosenUri: i % 3 ? `s3://c${i}` : null,
    }));
    for (const compression of ['SNAPPY', 'UNCOMPRESSED'] as const) {
      const path = join(dir, `many-${compression}.parquet`);
      await writeFile(path, await encode(rows, { compression, rowGroupSize: 900, pageSize: 300 }));
      const read = await readWithHyparquet(path);
      expect(read.rowGroups).toBe(3);
      expect(read.rows).toHaveLength(2500);
      expect(read.rows.map((r) => [r.chosen_video_id, r.margin, r.tie, r.chosen_uri])).toEqual(
        rows.map((r) => [r.chosenId, r.margin, r.tie, r.chosenUri]),
      );
    }
  });

  it('reads back in DuckDB, a second independent reader, with the statistics and schema it should carry', async () => {
    const rows = [...ROWS, pairRow({ chosenId: 'v7', rejectedId: 'v8', chosenUri: null, rejectedUri: null, modelVersion: 'ü-gen', margin: -0.5 })];
    const path = join(dir, 'duckdb.parquet');
    await writeFile(path, await encode(rows, { rowGroupSize: 3, pageSize: 2 }));
    const read = await readWithDuckDb(path);
    expect(read.rows.map((r) => [r.chosen_video_id, r.chosen_uri, r.request_id, r.margin, r.tie, r.prompt])).toEqual(
      rows.map((r) => [r.chosenId, r.chosenUri, r.requestId, Number(r.margin.toFixed(6)), r.tie, r.prompt]),
    );
    const chunk = (group: number, column: string) => read.chunks.find((c) => Number(c.row_group_id) === group && c.path_in_schema === column)!;
    // group 0: rows 0–2 (one null model_version), group 1: row 3
    expect(chunk(0, 'model_version')).toMatchObject({ stats_min_value: 'gen-2.1', stats_max_value: 'gen-2.1', stats_null_count: '1', compression: 'SNAPPY' });
    expect(chunk(1, 'model_version')).toMatchObject({ stats_min_value: 'ü-gen', stats_max_value: 'ü-gen', stats_null_count: '0' });
    expect(chunk(0, 'split')).toMatchObject({ stats_min_value: 'test', stats_max_value: 'validation' });
    expect(chunk(0, 'margin')).toMatchObject({ stats_min_value: '0.01', stats_max_value: '0.25' });
    expect(chunk(1, 'margin')).toMatchObject({ stats_min_value: '-0.5', stats_max_value: '-0.5' });
    expect(chunk(0, 'tie')).toMatchObject({ stats_min_value: 'false', stats_max_value: 'true' });
    expect(chunk(0, 'chosen_uri')).toMatchObject({ stats_min_value: null, stats_null_count: '1' });
    expect(read.schema.find((c) => c.name === 'prompt')).toMatchObject({ type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' });
    expect(read.schema.find((c) => c.name === 'request_id')).toMatchObject({ repetition_type: 'OPTIONAL' });
    expect(read.schema.find((c) => c.name === 'margin')).toMatchObject({ type: 'DOUBLE' });
  });

  it('writes a readable file with no rows', async () => {
    const path = join(dir, 'empty.parquet');
    await writeFile(path, await encode([]));
    await expect(readWithHyparquet(path)).resolves.toMatchObject({ rows: [], rowGroups: 0 });
  });

  it('gives identical bytes for identical rows (nothing time-dependent in the file)', async () => {
    const hash = async () => createHash('sha256').update(await encode(ROWS)).digest('hex');
    const first = await hash();
    await new Promise((r) => setTimeout(r, 20));
    await expect(hash()).resolves.toBe(first);
  });

  it('yields row groups as they are encoded instead of buffering the file', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => pairRow({ chosenId: `c${i}` }));
    let chunksBeforeEnd = 0;
    let consumed = 0;
    async function* source() {
      for (const r of rows) {
        consumed++;
        yield r;
      }
    }
    for await (const chunk of encodeParquet(source(), { rowGroupSize: 500 })) {
      expect(chunk.length).toBeGreaterThan(0);
      if (consumed < rows.length) chunksBeforeEnd++;
    }
    expect(chunksBeforeEnd).toBeGreaterThanOrEqual(5);
  });

  it('refuses invalid options', async () => {
    await expect(encode(ROWS, { rowGroupSize: 0 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(encode(ROWS, { compression: 'GZIP' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
