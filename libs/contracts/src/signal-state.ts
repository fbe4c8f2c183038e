/**
 * What one user did with one video, folded from their feedback events. The ingest-worker keeps one row of this per
 * (project, video, user); the satisfaction policy turns it into a score. Booleans are the *current* state: an
 * `unlike` after a `like` leaves `liked` false.
 */
export interface SignalState {
  impressed: boolean;
  played: boolean;
  completed: boolean;
  /** Highest watchMs / durationMs seen in `progress` events (capped at 1.5), or null when none arrived. */
  maxWatchRatio: number | null;
  /** Longest watchMs seen, and the longest duration the client reported (used for duration buckets). */
  maxWatchMs: number | null;
  durationMs: number | null;
  liked: boolean;
  favorited: boolean;
  shared: boolean;
  downloaded: boolean;
  exported: boolean;
  commented: boolean;
  /** Latest `overall` rating 1–5 (a `rate` without dimension), or null. */
  rating: number | null;
  /** Latest rating per named dimension (visual_quality, motion_quality, text_alignment, …). */
  dimensionRatings: Record<string, number>;
  /** This video was picked by a `choose` event among its request's candidates. */
  chosen: boolean;
  /** This user chose another candidate of the same generation request (the rule: PASSED_OVER in libs/database). */
  passedOver: boolean;
  regenerated: boolean;
  discarded: boolean;
  disliked: boolean;
  reported: boolean;
}

export function emptySignalState(): SignalState {
  return {
    impressed: false, played: false, completed: false, maxWatchRatio: null, maxWatchMs: null, durationMs: null,
    liked: false, favorited: false, shared: false, downloaded: false, exported: false, commented: false,
    rating: null, dimensionRatings: {}, chosen: false, passedOver: false, regenerated: false, discarded: false,
    disliked: false, reported: false,
  };
}
