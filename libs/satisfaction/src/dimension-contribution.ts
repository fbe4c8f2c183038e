import { RatioPair, momentName } from './cluster-moments';

/**
 * Per-dimension rollups (rating dimensions: visual_quality, motion_quality, text_alignment, …): what one (video, user)
 * row adds for each dimension it rated — 1 rated row, the rating, its square. A dimension's mean rating is
 * rating_sum / rated, with the same cluster-robust machinery as the overall metrics (the pair below, its moments kept
 * per dimension). A row without dimension ratings contributes nothing, so batches without them write nothing here.
 */
export const DIMENSION_COUNTERS = ['rated', 'rating_sum', 'rating_sumsq'] as const;
export type DimensionCounter = (typeof DIMENSION_COUNTERS)[number];

/** The mean rating of a dimension: Σ rating / rated rows. */
export const DIMENSION_PAIR: RatioPair<DimensionCounter> = { num: 'rating_sum', den: 'rated', numSquares: 'rating_sumsq' };

/** The moment columns of `dimension_cluster_moments`, in table order: A², A·B, B² of DIMENSION_PAIR. */
export const DIMENSION_MOMENT_COLUMNS: readonly { name: string; a: DimensionCounter; b: DimensionCounter }[] = [
  { name: momentName('rating_sum', 'rating_sum'), a: 'rating_sum', b: 'rating_sum' },
  { name: momentName('rating_sum', 'rated'), a: 'rating_sum', b: 'rated' },
  { name: momentName('rated', 'rated'), a: 'rated', b: 'rated' },
];

/** The counters one rating adds to its dimension, indexed like DIMENSION_COUNTERS. */
export function dimensionContribution(rating: number): Float64Array {
  return Float64Array.of(1, rating, rating * rating);
}

/**
 * The per-dimension satisfaction (rating − 3) / 2 as sums over rated rows, from the rating sums: an affine map of the
 * mean rating, so its cluster-robust design effect is the rating's (residuals A_g − r·B_g scale by ½ at both levels).
 */
export function dimensionSatisfactionSums(rated: number, ratingSum: number, ratingSumSq: number): { sum: number; sumSq: number } {
  return { sum: (ratingSum - 3 * rated) / 2, sumSq: (ratingSumSq - 6 * ratingSum + 9 * rated) / 4 };
}
