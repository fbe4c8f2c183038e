import { EVENT_TYPES_V1 } from '@flywheel/contracts';

/**
 * Seeded random inputs for POST /v1/events and /v1/generations near the edges of the contract: a valid item with at
 * most one field replaced by a value from that field's pool of edge cases (some valid, some not: lengths counted in
 * emoji, numbers at the edges of smallint / real / float8, timestamps PostgreSQL and JavaScript could read
 * differently). `field` names what was replaced, so a 400 can be checked to name it.
 */
export interface ContractInput<T> {
  item: T;
  field: string | null;
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

const EMOJI = ['🐈', '🎬', '👍🏽', '🇯🇵', 'é', 'e\u0301', '中', 'ß', '\u2028', '𝔘'];
/** A string of `n` code points drawn from ASCII and astral / combining characters (incompressible, unlike 'xxx'). */
function codePoints(random: Random, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += random() < 0.5 ? String.fromCodePoint(0x1f300 + Math.floor(random() * 0x2ff)) : String.fromCharCode(0x21 + Math.floor(random() * 0x5d));
  return out;
}

const idEdges = (random: Random, max: number): unknown[] => [
  '', ' ', 'a', codePoints(random, max), codePoints(random, max + 1), '🐈'.repeat(max), '🐈'.repeat(max + 1),
  'x'.repeat(max), 'x'.repeat(max + 1), pick(random, EMOJI).repeat(8), 'a\u0000b', 'lone \ud800', 'ok\udc00', 42, true, [], {}, null,
];

const numberEdges = [0, -0, 1, 4.5, 1e9, 1e9 + 1, -1, 1e-300, 5e-324, 1e-50, 1e308, 3.4028235e38, '5', true, null, []];

const timestampEdges = (now: number): unknown[] => [
  new Date(now - 3600e3).toISOString(), '2026-11-01T12:00:00Z', '2026-11-01T12:00:00+14:00', '2026-11-01T12:00:00-14:00',
  '2026-11-01T12:00:00+14:01', '2026-11-01T12:00:00+23:59', '2026-11-01T12:00:00+1400', '2026-11-01T12:00+05:30',
  '2026-11-01T12:59:59.999999Z', '2026-11-01T12:59:59.9999995Z', '2026-11-01T12:00:00.123456789Z', '2024-02-29T00:00:00Z',
  '2026-02-29T00:00:00Z', '2026-11-01T24:00:00Z', '2026-11-01T12:00:60Z', '2026-11-01T12:00:00z', '2026-11-01T12:00:00',
  '2014-12-31T23:59:59Z', '2015-01-01T00:00:00Z', new Date(now + 2 * 86400e3).toISOString(), '+300000-01-01T00:00:00Z',
  '300000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', 1700000000000, '',
];

export function randomEvent(random: Random, n: number, now: number, videoIds: string[]): ContractInput<Record<string, unknown>> {
  const type = pick(random, EVENT_TYPES_V1);
  const item: Record<string, unknown> = {
    eventId: `prop-e${n}`, type, videoId: videoIds.length && random() < 0.6 ? pick(random, videoIds) : `prop-v${n % 17}`,
    userId: `u${n % 5}`, occurredAt: new Date(now - Math.floor(random() * 86400e3)).toISOString(),
  };
  if (type === 'progress') Object.assign(item, { watchMs: Math.floor(random() * 9000), durationMs: 8000 });
  if (type === 'rate') Object.assign(item, { rating: 1 + Math.floor(random() * 5) }, random() < 0.5 ? { dimension: 'visual_quality' } : {});
  if (random() < 0.3) item.sessionId = `s${n % 3}`;
  if (random() < 0.3) item.requestId = `r${n % 4}`;
  if (random() < 0.15) return { item, field: null };
  const field = pick(random, ['eventId', 'videoId', 'userId', 'occurredAt', 'occurredAt', 'watchMs', 'durationMs', 'rating', 'rating', 'dimension', 'sessionId', 'requestId', 'type', 'mood']);
  const pools: Record<string, unknown[]> = {
    eventId: idEdges(random, 128), videoId: idEdges(random, 128), userId: idEdges(random, 256), sessionId: idEdges(random, 128),
    requestId: idEdges(random, 128), occurredAt: timestampEdges(now), watchMs: numberEdges, durationMs: numberEdges,
    rating: [1, 5, 0, 6, 4.5, 3.0000001, -0, 2 ** 15, '5', null], dimension: ['overall', 'visual_quality', 'Visual', 'a'.repeat(64), 'a'.repeat(65), 'a-b', '', 7],
    type: ['rate', 'progress', 'poke', '', 'LIKE', 3], mood: ['happy'],
  };
  const value = pick(random, pools[field]);
  // Ids stay unique per input, so the stored row can be found: an edge value becomes a suffix of the unique part.
  item[field] = field === 'eventId' && typeof value === 'string' && value.length > 0 ? uniqueId(value, n, 128) : value;
  if (field === 'type' && value === 'rate') item.rating = 3;
  if (field === 'type' && value === 'progress') item.watchMs = 100;
  return { item, field };
}

export function randomGeneration(random: Random, n: number, now: number, dim: number): ContractInput<Record<string, unknown>> {
  const item: Record<string, unknown> = {
    videoId: `prop-g${n}`, requestId: `prop-r${n % 7}`, prompt: `a prompt ${n}`, model: 'm', modelVersion: `${n % 3}`,
    features: Array.from({ length: dim }, () => Math.round((random() * 4 - 2) * 1000) / 1000),
  };
  if (random() < 0.5) item.category = `c${n % 2}`;
  if (random() < 0.5) item.segment = `s${n % 2}`;
  if (random() < 0.3) item.createdAt = new Date(now - 7200e3).toISOString();
  if (random() < 0.15) return { item, field: null };
  const field = pick(random, ['videoId', 'requestId', 'prompt', 'prompt', 'model', 'modelVersion', 'category', 'segment', 'durationMs', 'uri', 'features', 'features', 'features', 'createdAt', 'dims', 'colour', 'fps', 'numFrames']);
  if (field === 'dims') { // every rollup dimension at its longest, in 4-byte characters: the rollup key's index must hold it
    for (const key of ['model', 'modelVersion', 'category', 'segment']) item[key] = codePoints(random, 128).replace(/[\x21-\x7e]/g, '🎬');
    return { item, field: null };
  }
  const featureEdges = [1e-50, -1e-50, 1e-45, 5e-324, 1e39, -1e39, 3.4028235e38, 3.4028235677973366e38, 1e308, 0.1, -0, '1', null];
  const pools: Record<string, unknown[]> = {
    videoId: idEdges(random, 128), requestId: idEdges(random, 128), model: idEdges(random, 128), modelVersion: idEdges(random, 128),
    category: idEdges(random, 128), segment: idEdges(random, 128), uri: idEdges(random, 2048), createdAt: timestampEdges(now),
    prompt: ['', codePoints(random, 10000), codePoints(random, 10001), '🐈'.repeat(10000), 'a\u0000', 'x'.repeat(10001), 7],
    durationMs: numberEdges, colour: ['red'],
    fps: [23.976, 0.01, 0.009, 0, 1000, 1000.5, -24, 1e-300, '24', true, null],
    numFrames: [1, 121, 0, 1e7, 1e7 + 1, 2.5, -1, '121', null],
    features: [
      ...featureEdges.map((edge) => { const f = [...(item.features as number[])]; f[Math.floor(random() * dim)] = edge as number; return f; }),
      [], (item.features as number[]).slice(1), [...(item.features as number[]), 1], 'x',
    ],
  };
  const value = pick(random, pools[field]);
  item[field] = field === 'videoId' && typeof value === 'string' && value.length > 0 ? uniqueId(value, n, 128) : value;
  return { item, field };
}

/** `value` with a unique prefix, keeping its length class: at most `max` code points stays at most, above stays above. */
function uniqueId(value: string, n: number, max: number): string {
  const prefix = `p${n}-`;
  const points = [...value];
  if (points.length > max || points.length + prefix.length <= max) return prefix + value;
  return prefix + points.slice(prefix.length).join('');
}

/** Edges every run covers whatever the seed: each once stalled a partition or was refused after a 202. */
export function edgeEvents(now: number, videoIds: string[]): ContractInput<Record<string, unknown>>[] {
  const base = { type: 'progress', videoId: videoIds[0] ?? 'prop-v0', userId: 'u-edge', occurredAt: new Date(now - 60e3).toISOString() };
  return [
    { item: { ...base, eventId: 'edge-tiny-ratio', watchMs: 1e-300, durationMs: 1 }, field: null }, // ratio underflows real
    { item: { ...base, eventId: 'edge-subnormal-ratio', watchMs: 5e-324, durationMs: 1e9 }, field: null },
    { item: { ...base, eventId: 'edge-rating', type: 'rate', rating: 4.5 }, field: 'rating' }, // smallint
    { item: { ...base, eventId: 'edge-offset', occurredAt: '2026-11-01T12:00:00+23:59' }, field: 'occurredAt' },
    { item: { ...base, eventId: '🐈'.repeat(128), type: 'like' }, field: null },
  ];
}

export function edgeGenerations(random: Random, now: number, dim: number): ContractInput<Record<string, unknown>>[] {
  const base = { requestId: 'edge-r', prompt: 'p', model: 'm', modelVersion: 'edge', features: Array.from({ length: dim }, () => 0.5) };
  const emoji = () => codePoints(random, 128).replace(/[\x21-\x7e]/g, '🎬');
  return [
    { item: { ...base, videoId: 'edge-underflow', features: [1e-50, ...base.features.slice(1)] }, field: null },
    { item: { ...base, videoId: 'edge-overflow', features: [1e39, ...base.features.slice(1)] }, field: 'features' },
    { item: { ...base, videoId: 'edge-long-prompt', prompt: codePoints(random, 10000) }, field: null }, // prompt index entry
    { item: { ...base, videoId: 'edge-dims', model: emoji(), modelVersion: emoji(), category: emoji(), segment: emoji() }, field: null },
    { item: { ...base, videoId: '🎬'.repeat(128), createdAt: new Date(now - 60e3).toISOString() }, field: null },
  ];
}
