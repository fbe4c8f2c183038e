import { EventType } from './events';
import { SignalState } from './signal-state';

/**
 * Signal state plus the clock that makes folding order-independent: toggles (like/unlike, favorite/unfavorite) and
 * ratings are last-writer-wins by (occurredAt, eventId), so events that arrive out of order, or are replayed, fold
 * to the same state. Everything else is monotone (flags only turn on, watch ratio only grows).
 */
export interface SignalRecord extends SignalState {
  clock: Record<string, [number, string]>;
  eventCount: number;
  firstEventAt: number | null;
  lastEventAt: number | null;
}

/** The part of an event that folding reads. `passed_over` is synthetic: another candidate was chosen. */
export interface FoldableEvent {
  type: EventType | 'passed_over';
  eventId: string;
  occurredAtMs: number;
  watchMs?: number | null;
  durationMs?: number | null;
  rating?: number | null;
  dimension?: string | null;
}

export const MAX_WATCH_RATIO = 1.5;

export function emptySignalRecord(): SignalRecord {
  // One literal (not a spread of emptySignalState): a row of every new key is built here.
  return {
    impressed: false, played: false, completed: false, maxWatchRatio: null, maxWatchMs: null, durationMs: null,
    liked: false, favorited: false, shared: false, downloaded: false, exported: false, commented: false,
    rating: null, dimensionRatings: {}, chosen: false, passedOver: false, regenerated: false, discarded: false,
    disliked: false, reported: false, clock: {}, eventCount: 0, firstEventAt: null, lastEventAt: null,
  };
}

/** True when (ms, id) is newer than what the clock holds for `field`; then records it. */
function advance(record: SignalRecord, field: string, event: FoldableEvent): boolean {
  const seen = record.clock[field];
  if (seen && (seen[0] > event.occurredAtMs || (seen[0] === event.occurredAtMs && seen[1] >= event.eventId))) {
    return false;
  }
  record.clock[field] = [event.occurredAtMs, event.eventId];
  return true;
}

/** Folds one new event into the record in place. Call it only for events that were not stored before. */
export function foldEvent(record: SignalRecord, event: FoldableEvent): void {
  // A synthetic passed_over is not an event of this video, but it still dates the row (its rollup hour).
  if (event.type !== 'passed_over') record.eventCount += 1;
  if (record.firstEventAt === null || event.occurredAtMs < record.firstEventAt) record.firstEventAt = event.occurredAtMs;
  if (record.lastEventAt === null || event.occurredAtMs > record.lastEventAt) record.lastEventAt = event.occurredAtMs;
  switch (event.type) {
    case 'impression': record.impressed = true; break;
    case 'play': record.impressed = record.played = true; break;
    case 'progress': foldWatch(record, event); break;
    case 'complete':
      record.impressed = record.played = record.completed = true;
      if (event.durationMs) foldWatch(record, { ...event, watchMs: event.durationMs });
      else record.maxWatchRatio = Math.max(record.maxWatchRatio ?? 0, 1);
      break;
    case 'like': case 'unlike':
      if (advance(record, 'liked', event)) record.liked = event.type === 'like';
      break;
    case 'favorite': case 'unfavorite':
      if (advance(record, 'favorited', event)) record.favorited = event.type === 'favorite';
      break;
    case 'share': record.shared = true; break;
    case 'download': record.downloaded = true; break;
    case 'export': record.exported = true; break;
    case 'comment': record.commented = true; break;
    case 'rate': {
      const dimension = event.dimension && event.dimension !== 'overall' ? event.dimension : null;
      if (event.rating == null) break;
      if (dimension === null) {
        if (advance(record, 'rating', event)) record.rating = event.rating;
      } else if (advance(record, `rating:${dimension}`, event)) {
        record.dimensionRatings = { ...record.dimensionRatings, [dimension]: event.rating };
      }
      break;
    }
    case 'choose': record.chosen = true; record.impressed = true; break;
    case 'passed_over': record.passedOver = true; break;
    case 'regenerate': record.regenerated = true; break;
    case 'discard': record.discarded = true; break;
    case 'dislike': record.disliked = true; break;
    case 'report': record.reported = true; break;
  }
}

function foldWatch(record: SignalRecord, event: FoldableEvent): void {
  record.impressed = record.played = true;
  const watchMs = event.watchMs ?? 0;
  if (record.maxWatchMs === null || watchMs > record.maxWatchMs) record.maxWatchMs = watchMs;
  if (event.durationMs && event.durationMs > 0) {
    // The longest duration reported, not the last one: the fold must not depend on arrival order.
    if (record.durationMs === null || event.durationMs > record.durationMs) record.durationMs = event.durationMs;
    // Stored as real: keep exactly what the row will hold, so a refold from the stored row (the ingest path) and a
    // fold from the events (the rebuild) score the same number and take out what they put in.
    const ratio = Math.fround(Math.min(watchMs / event.durationMs, MAX_WATCH_RATIO));
    if (record.maxWatchRatio === null || ratio > record.maxWatchRatio) record.maxWatchRatio = ratio;
    if (ratio >= 0.98) record.completed = true;
  }
}
