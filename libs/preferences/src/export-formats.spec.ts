import { createHash } from 'node:crypto';
import { csvField, exportNumber } from './canonical-encoding';
import { preferenceSetSha256, rankedRequestsSha256, sha256Hex } from './content-hash';
import { EXPORT_FORMATS, PairExportFormat, encodeRankings, isExportFormat } from './export-formats';
import { ROWS, pairRow } from './pair-rows.testing';
import type { PreferencePairRow, RankedRequest } from './preference.types';
import { PreferencesError } from './preferences.errors';
import { encodeDpoJsonl, encodePairs, encodePairsJsonl, pairRowsSha256 } from './row-encoders.testing';
import { parseCsvRecords } from './trainer-loaders.testing';
import { RowSource, newExportStats } from './text-export.encoder';
import { encodeVideoAlignCsv } from './trainer-export.encoder';

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function* slowly<T>(rows: T[]): AsyncGenerator<T> {
  for (const row of rows) {
    await new Promise((resolve) => setImmediate(resolve));
    yield row;
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('exportNumber (the float rule of every format)', () => {
  it('rounds to 6 decimals, writes −0 as 0 and refuses non-finite values', () => {
    expect(exportNumber(0.123456789)).toBe(0.123457);
    expect(exportNumber(2 / 3)).toBe(0.666667);
    expect(exportNumber(1e-7)).toBe(0);
    expect(Object.is(exportNumber(-1e-9), 0)).toBe(true);
    expect(exportNumber(-0.5)).toBe(-0.5);
    expect(exportNumber(123456.7)).toBe(123456.7);
    expect(() => exportNumber(NaN, 'margin')).toThrow(PreferencesError);
    expect(() => exportNumber(Infinity)).toThrow(expect.objectContaining({ code: 'INVALID_ROW' }));
  });

  it('gives exactly Number(x.toFixed(6)) on its fast path, near halves and float4 values included', () => {
    const reference = (x: number) => {
      const r = Number(x.toFixed(6));
      return r === 0 ? 0 : r;
    };
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const values = [0.0000005, -0.0000005, 0.0000015, 2.5e-7, 1.0000005, -3.4999995, 2147.483647, 2147.4836475, -2147.4836485, 1e-300];
    for (let i = 0; i < 200_000; i++) {
      const magnitude = 10 ** Math.floor(random() * 10 - 6);
      const x = (random() - 0.5) * magnitude;
      values.push(x, Math.fround(x), (Math.round(x * 1e6) + 0.5) / 1e6, (Math.round(x * 1e6) + 0.5004) / 1e6);
    }
    const mismatches = values.filter((x) => !Object.is(exportNumber(x), reference(x)));
    expect(mismatches).toEqual([]);
  });
});

describe('dpo-jsonl', () => {
  it('writes one preference per line with a fixed key order, skipping ties', async () => {
    const stats = newExportStats();
    const text = (await collect(encodeDpoJsonl(ROWS, stats))).toString('utf8');
    expect(text).toBe(
      '{"prompt":"a cat surfing","chosen":"s3://bucket/v1.mp4","rejected":"s3://bucket/v2.mp4","margin":0.25,"weight":1,"source":"observed","split":"train","chosen_video_id":"v1","rejected_video_id":"v2","request_id":"r1","model_version":"gen-2.1"}\n' +
      '{"prompt":"a \\"quoted\\", comma\\nnewline prompt — ünïcode 🐈","chosen":"v3","rejected":"s3://bucket/v2.mp4","margin":0.123457,"weight":0.666667,"source":"observed","split":"test","chosen_video_id":"v3","rejected_video_id":"v4","request_id":null,"model_version":null}\n',
    );
    expect(stats).toEqual({ rows: 3, written: 2, skippedTies: 1, skippedUnlabelled: 0, skippedSmallGroups: 0, bytes: Buffer.byteLength(text) });
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines[1].prompt).toBe(ROWS[1].prompt);
    expect(Object.keys(lines[0])).toEqual([
      'prompt', 'chosen', 'rejected', 'margin', 'weight', 'source', 'split', 'chosen_video_id', 'rejected_video_id',
      'request_id', 'model_version',
    ]);
  });

  it('refuses a row with a non-finite margin', async () => {
    await expect(collect(encodeDpoJsonl([pairRow({ margin: NaN })]))).rejects.toThrow(PreferencesError);
  });
});

describe('videoalign-csv', () => {
  it('writes RFC 4180 rows with per-dimension labels, fps and frame counts; a pair with no label is counted, not written', async () => {
    const rows = [pairRow({ ...ROWS[0], chosenFps: 24, chosenFrames: 121, rejectedFps: 23.976, rejectedFrames: null }), ROWS[1], ROWS[2]];
    const stats = newExportStats();
    const text = (await collect(encodeVideoAlignCsv(rows, { abOrder: 'chosen-first' }, stats))).toString('utf8');
    expect(text).toBe(
      'path_A,path_B,prompt,VQ,MQ,TA,fps_A,num_frames_A,fps_B,num_frames_B\r\n' +
      's3://bucket/v1.mp4,s3://bucket/v2.mp4,a cat surfing,A,B,same,24,121,23.976,\r\n' +
      'v3,s3://bucket/v2.mp4,"a ""quoted"", comma\nnewline prompt — ünïcode 🐈",B,,,,,,\r\n',
    );
    expect(stats).toMatchObject({ rows: 3, written: 2, skippedUnlabelled: 1 });
  });

  it('adds an overall column only when asked, which labels every pair (ties as same)', async () => {
    const stats = newExportStats();
    const text = (await collect(encodeVideoAlignCsv(ROWS, { abOrder: 'chosen-first', overall: true }, stats))).toString('utf8');
    expect(text.split('\r\n')[0]).toBe('path_A,path_B,prompt,VQ,MQ,TA,overall,fps_A,num_frames_A,fps_B,num_frames_B');
    expect(text.split('\r\n')[3]).toBe('s3://bucket/v1.mp4,s3://bucket/v2.mp4,a cat surfing,,,,same,,,,');
    expect(stats).toMatchObject({ written: 3, skippedUnlabelled: 0 });
  });

  it('points rows at files through a path template, and refuses a template without {videoId}', async () => {
    const text = (await collect(encodeVideoAlignCsv([ROWS[0]], { abOrder: 'chosen-first', pathTemplate: 'videos/{videoId}.mp4' }))).toString('utf8');
    expect(text.split('\r\n')[1]).toMatch(/^videos\/v1\.mp4,videos\/v2\.mp4,/);
    expect(() => encodeVideoAlignCsv(ROWS, { pathTemplate: 'videos/x.mp4' })).toThrow(PreferencesError);
  });

  it('quotes any field with a comma, quote, CR or LF', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line\r\nbreak')).toBe('"line\r\nbreak"');
    expect(csvField('')).toBe('');
  });

  it('widens "same" with dimensionTieBand', async () => {
    const text = (await collect(encodeVideoAlignCsv([ROWS[0]], { dimensionTieBand: 0.5, abOrder: 'chosen-first' }))).toString('utf8');
    expect(text.split('\r\n')[1]).toBe('s3://bucket/v1.mp4,s3://bucket/v2.mp4,a cat surfing,A,same,same,,,,');
  });

  it('balances A/B by default, by seed: another seed gives another order, the same seed the same', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => pairRow({
      chosenId: `c${i}`, rejectedId: `r${i}`, chosenUri: `s3://c${i}`, rejectedUri: `s3://r${i}`, dimensions: { visual_quality: 1 },
    }));
    const order = async (seed?: number) => parseCsvRecords((await collect(encodeVideoAlignCsv(rows, { seed }))).toString('utf8')).slice(1).map((r) => r[0].startsWith('s3://r'));
    const [one, again, two] = [await order(), await order(1), await order(2)];
    expect(again).toEqual(one);
    expect(two).not.toEqual(one);
    expect(one.filter(Boolean).length).toBeGreaterThan(150);
    expect(one.filter(Boolean).length).toBeLessThan(250);
  });
});

describe('ranked-jsonl', () => {
  it('writes one request per line, candidates in the given order', async () => {
    const ranked: RankedRequest[] = [{
      requestId: 'r1', prompt: 'a, "b"', source: 'observed',
      candidates: [{ videoId: 'v2', uri: 's3://v2', score: 0.3333333333, n: 4 }, { videoId: 'v1', uri: null, score: -0.1, n: 0 }],
    }];
    const text = (await collect(encodeRankings(ranked))).toString('utf8');
    expect(text).toBe(
      '{"request_id":"r1","prompt":"a, \\"b\\"","source":"observed","candidates":[{"video_id":"v2","uri":"s3://v2","score":0.333333,"n":4},{"video_id":"v1","uri":null,"score":-0.1,"n":0}]}\n',
    );
    await expect(rankedRequestsSha256(ranked)).resolves.toBe(sha(Buffer.from(text)));
  });
});

describe('pairs-jsonl (canonical) and content hashes', () => {
  it('writes every column, ties included, dimensions with sorted keys', async () => {
    const text = (await collect(encodePairs('pairs-jsonl', [ROWS[0], ROWS[2]]))).toString('utf8');
    expect(text).toBe(
      '{"chosen_video_id":"v1","rejected_video_id":"v2","chosen_uri":"s3://bucket/v1.mp4","rejected_uri":"s3://bucket/v2.mp4","prompt":"a cat surfing","request_id":"r1","model_version":"gen-2.1","margin":0.25,"weight":1,"tie":false,"scope":"request","group_key":"request:r1","split":"train","source":"observed","dimensions":{"motion_quality":-0.5,"text_alignment":0,"visual_quality":1.5}}\n' +
      '{"chosen_video_id":"v5","rejected_video_id":"v6","chosen_uri":"s3://bucket/v1.mp4","rejected_uri":"s3://bucket/v2.mp4","prompt":"a cat surfing","request_id":"r1","model_version":"gen-2.1","margin":0.01,"weight":1,"tie":true,"scope":"request","group_key":"request:r1","split":"validation","source":"reward_model","dimensions":{}}\n',
    );
  });

  it('hashes the canonical encoding: equal rows give equal hashes, any change a different one', async () => {
    const h = await pairRowsSha256(ROWS);
    await expect(pairRowsSha256(slowly(ROWS.map((r) => ({ ...r, dimensions: reversedKeys(r.dimensions) }))))).resolves.toBe(h);
    await expect(pairRowsSha256([ROWS[0], ROWS[1], { ...ROWS[2], weight: 0.5 }])).resolves.not.toBe(h);
    await expect(pairRowsSha256([ROWS[1], ROWS[0], ROWS[2]])).resolves.not.toBe(h);
    // Below the 6-decimal rule, floats do not change the hash.
    await expect(pairRowsSha256([{ ...ROWS[0], margin: 0.25 + 1e-12 }, ROWS[1], ROWS[2]])).resolves.toBe(h);
    await expect(sha256Hex(encodePairs('pairs-jsonl', ROWS))).resolves.toBe(h);
  });

  it('combines pairs and rankings into one set hash', async () => {
    const pairs = await pairRowsSha256(ROWS);
    const rankings = await rankedRequestsSha256([]);
    const expected = createHash('sha256').update(`flywheel.preference-set.v1\npairs ${pairs}\nrankings ${rankings}\n`).digest('hex');
    await expect(preferenceSetSha256({ pairsJsonl: encodePairsJsonl(ROWS) })).resolves.toBe(expected);
  });
});

describe('every pair format', () => {
  const formats: PairExportFormat[] = ['dpo-jsonl', 'pairs-jsonl', 'videoalign-csv', 'parquet'];
  const many = Array.from({ length: 5000 }, (_, i) => pairRow({
    chosenId: `c${i}`, rejectedId: `r${i}`, margin: (i % 97) / 89, weight: 1 / (1 + (i % 7)), tie: i % 13 === 0,
    prompt: `prompt ${i % 50}, "variant" ${i % 3}`, dimensions: i % 2 ? { visual_quality: (i % 5) - 2 } : {},
  }));

  it.each(formats)('%s: the same rows give the same bytes, from an array or a slow async source', async (format) => {
    const a = await collect(encodePairs(format, many));
    const b = await collect(encodePairs(format, slowly(many)));
    expect(a.length).toBeGreaterThan(0);
    expect(sha(b)).toBe(sha(a));
  });

  it('streams text formats in bounded chunks that end on line boundaries', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of encodePairs('pairs-jsonl', many)) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.length).toBeLessThan(200 * 1024);
      expect(c[c.length - 1]).toBe(0x0a);
    }
  });

  it('knows its formats and refuses others', () => {
    expect(isExportFormat('parquet')).toBe(true);
    expect(isExportFormat('toString')).toBe(false);
    expect(EXPORT_FORMATS['ranked-jsonl'].rows).toBe('rankings');
    expect(() => encodePairs('xml' as PairExportFormat, [] as RowSource<PreferencePairRow>)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FORMAT' }),
    );
  });
});

function reversedKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).reverse());
}
