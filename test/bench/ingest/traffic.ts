/*
 * The traffic bench:ingest sends, generated up front and untimed: generations for a few thousand videos (candidates
 * grouped by request), then unique feedback events from user × video episodes in time order, cut into POST bodies,
 * with a share of them re-sent a few batches later (client retries).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { FeedbackEventInput } from '@flywheel/contracts';
import { prng } from '../../support/harness';
import { Args } from './args';

/** Picks indices with Zipf-like weights 1/(rank+1)^s: a few popular videos, a long tail. */
function zipfPicker(n: number, s: number, rand: () => number): () => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cumulative[i] = sum += 1 / Math.pow(i + 1, s);
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface Video {
  videoId: string;
  requestId: string;
  durationMs: number;
}

export type BenchEvent = FeedbackEventInput;

export interface Traffic {
  videos: Video[];
  users: number;
  generationBodies: string[];
  /** Unique events, in time order. */
  unique: BenchEvent[];
  /** JSON bodies of POST /v1/events, in sending order, and the number of events in each. */
  bodies: string[];
  bodySizes: number[];
  duplicates: number;
  typeCounts: Map<string, number>;
}

const CATEGORIES = ['portrait', 'landscape', 'product', 'anime', 'food', 'sports', 'travel', 'pets'];
const SEGMENTS = ['new', 'casual', 'creator', 'pro'];
const DIMENSIONS = ['visual_quality', 'motion_quality', 'text_alignment'];
export const FEATURE_DIM = 16;

export function generateTraffic(args: Args): Traffic {
  const rand = prng(args.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const run = randomBytes(3).toString('hex');

  // A few thousand videos, generated 2–4 candidates per request, 5–60 s long.
  const videoCount = Math.min(5000, Math.max(300, Math.round(args.events / 50)));
  const userCount = Math.min(8000, Math.max(300, Math.round(args.events / 35)));
  const videos: Video[] = [];
  const generations: Record<string, unknown>[] = [];
  const createdAt = new Date(Date.now() - 3 * 3600_000).toISOString();
  for (let r = 0; videos.length < videoCount; r++) {
    const requestId = `req_${run}_${r}`;
    const prompt = `a ${CATEGORIES[r % CATEGORIES.length]} clip, take ${r % 97}, cinematic lighting`;
    const modelVersion = rand() < 0.5 ? '1.2.0' : '1.3.0';
    const category = CATEGORIES[int(0, CATEGORIES.length - 1)];
    const segment = SEGMENTS[int(0, SEGMENTS.length - 1)];
    for (let c = int(2, 4); c > 0 && videos.length < videoCount; c--) {
      const video = { videoId: `vid_${run}_${videos.length}`, requestId, durationMs: 1000 * Math.round(5 + 55 * rand() * rand()) };
      videos.push(video);
      generations.push({
        videoId: video.videoId, requestId, prompt, model: 'seedance', modelVersion, category, segment,
        durationMs: video.durationMs, features: Array.from({ length: FEATURE_DIM }, () => Math.round((rand() * 2 - 1) * 1e4) / 1e4),
        createdAt,
      });
    }
  }
  const generationBodies: string[] = [];
  for (let i = 0; i < generations.length; i += 1000) generationBodies.push(JSON.stringify({ generations: generations.slice(i, i + 1000) }));

  // Episodes: one user meeting one video, spread over the last two hours.
  const pickVideo = zipfPicker(videoCount, 0.8, rand);
  const pickUser = zipfPicker(userCount, 0.6, rand);
  const windowStart = Date.now() - 2 * 3600_000;
  const unique: (BenchEvent & { at: number })[] = [];
  const typeCounts = new Map<string, number>();
  while (unique.length < args.events) {
    const video = videos[pickVideo()];
    const user = pickUser();
    const t0 = windowStart + Math.floor(rand() * 2 * 3600_000 - 120_000);
    const sessionId = `sess_${run}_${user}_${Math.floor((t0 - windowStart) / 1_200_000)}`;
    let t = t0;
    const emit = (type: BenchEvent['type'], extra: Partial<BenchEvent> = {}, afterMs = 300) => {
      t += afterMs;
      unique.push({ eventId: randomUUID(), type, videoId: video.videoId, userId: `user_${user}`, occurredAt: '', at: t, sessionId, ...extra });
    };
    emit('impression');
    if (rand() < 0.62) {
      emit('play', {}, 500 + int(0, 1500));
      const completes = rand() < 0.35;
      const fraction = completes ? 1 : Math.min(0.97, 0.05 + 0.9 * Math.pow(rand(), 1.4));
      // Players report progress when the viewer leaves or scrolls on (not on every play), sometimes mid-way too.
      const steps = rand() < 0.75 ? 1 + (rand() < 0.25 ? 1 : 0) : 0;
      for (let s = 1; s <= steps; s++) {
        const watchMs = Math.round((video.durationMs * fraction * s) / steps);
        emit('progress', { watchMs, durationMs: video.durationMs }, Math.round((video.durationMs * fraction) / steps));
      }
      if (completes) emit('complete', { durationMs: video.durationMs }, 50);
      if (rand() < 0.09) {
        emit('like', {}, int(200, 3000));
        if (rand() < 0.08) emit('unlike', {}, int(500, 5000));
      }
      if (rand() < 0.03) {
        emit('favorite', {}, int(200, 3000));
        if (rand() < 0.05) emit('unfavorite', {}, int(500, 5000));
      }
      if (rand() < 0.02) emit('share', {}, int(500, 5000));
      if (rand() < 0.025) emit('download', {}, int(500, 5000));
      if (rand() < 0.015) emit('export', {}, int(1000, 20000));
      if (rand() < 0.01) emit('comment', {}, int(2000, 20000));
      if (rand() < 0.03) {
        const rating = Math.max(1, Math.min(5, Math.round(3.4 + 1.2 * (rand() + rand() - 1) * 2)));
        emit('rate', rand() < 0.5 ? { rating } : { rating, dimension: DIMENSIONS[int(0, DIMENSIONS.length - 1)] }, int(500, 5000));
      }
      if (rand() < 0.04) emit('choose', { requestId: video.requestId }, int(500, 5000));
      if (rand() < 0.03) emit('regenerate', { requestId: video.requestId }, int(500, 5000));
      if (rand() < 0.02) emit('discard', {}, int(500, 5000));
    }
    if (rand() < 0.02) emit('dislike', {}, int(200, 2000));
    if (rand() < 0.002) emit('report', {}, int(1000, 10000));
  }
  unique.length = args.events;
  unique.sort((a, b) => a.at - b.at);
  for (const e of unique) {
    e.occurredAt = new Date(e.at).toISOString();
    typeCounts.set(e.type, (typeCounts.get(e.type) ?? 0) + 1);
  }

  // Client retries: some events are sent again, a few batches later.
  const retried: { position: number; event: BenchEvent }[] = [];
  for (let i = 0; i < unique.length; i++) {
    if (rand() < args.dupRate) retried.push({ position: Math.min(unique.length, i + int(1000, 20000)), event: unique[i] });
  }
  retried.sort((a, b) => a.position - b.position);
  const sending: BenchEvent[] = [];
  for (let i = 0, r = 0; i <= unique.length; i++) {
    while (r < retried.length && retried[r].position === i) sending.push(retried[r++].event);
    if (i < unique.length) sending.push(unique[i]);
  }
  const bodies: string[] = [];
  const bodySizes: number[] = [];
  for (let i = 0; i < sending.length;) {
    const size = Math.min(int(args.batchMin, args.batchMax), sending.length - i);
    bodies.push(JSON.stringify({ events: sending.slice(i, i + size).map(wireEvent) }));
    bodySizes.push(size);
    i += size;
  }
  return { videos, users: userCount, generationBodies, unique, bodies, bodySizes, duplicates: retried.length, typeCounts };
}

/** An event as it goes on the wire (without the generation-time `at`). */
export function wireEvent({ at: _at, ...e }: BenchEvent & { at?: number }): BenchEvent {
  return e;
}
