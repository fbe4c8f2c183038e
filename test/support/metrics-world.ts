import { GenerationMessage } from '@flywheel/contracts';

/** The medium metrics tests' world (test/medium/*metrics-read-path.test.ts) and how they compare answers. */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * 90 generations: 2 models × 3 versions, 3 categories and none, 2 segments and none, created over the 5 days from
 * `t0` at any hour; features drawn from `rand`.
 */
export function worldGenerations(projectId: string, rand: () => number, t0: number): GenerationMessage[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const generations: GenerationMessage[] = [];
  for (let i = 0; i < 90; i++) {
    generations.push({
      v: 1, projectId, videoId: `v${i}`, requestId: `r${i >> 2}`, prompt: `prompt ${i % 7}`, model: i % 5 ? 'seedance' : 'kling',
      modelVersion: `${1 + (i % 3)}.0`, category: [undefined, 'pets', 'travel', 'food'][i % 4], segment: [undefined, 'pro', 'casual'][(i >> 2) % 3],
      durationMs: 5000, features: [rand(), rand()], createdAt: iso(t0 + (i % 5) * DAY + (i % 24) * HOUR), receivedAt: iso(t0),
    });
  }
  return generations;
}

/** Differences between two answers: strings and order exactly, numbers to 1e-9 relative (sums in another order). */
export function differences(a: unknown, b: unknown, at = ''): string[] {
  if (typeof a === 'number' && typeof b === 'number') {
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) ? [] : [`${at}: ${a} vs ${b}`];
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${at}: ${a.length} entries vs ${b.length}`];
    return a.flatMap((x, i) => differences(x, b[i], `${at}[${i}]`));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return a === b ? [] : [`${at}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}
