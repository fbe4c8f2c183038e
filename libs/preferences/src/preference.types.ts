/** Per-video evidence: who saw it, how satisfied they were (raw and shrunk), and its ratings per dimension. */
export interface VideoEvidence {
  videoId: string;
  requestId: string;
  /** Normalised prompt (the prompt scope groups on it). */
  promptNorm: string;
  prompt: string;
  modelVersion: string;
  uri: string | null;
  /** Number of users with a satisfaction score on this video. */
  n: number;
  satMean: number;
  /** Mean satisfaction shrunk toward the prior: the score request- and prompt-scope pairs compare. */
  satShrunk: number;
  /** Mean rating per dimension ('visual_quality', 'motion_quality', 'text_alignment', …), where any. */
  dimensionScores?: Record<string, number>;
  /** Reward-model score, when one was computed. */
  rewardScore?: number;
  /** Users who liked, exported or chose it (positive) and who discarded, regenerated or disliked it (negative). */
  positive?: number;
  negative?: number;
  /** Frames per second and frame count of the file, when the generator declared them. */
  fps?: number | null;
  numFrames?: number | null;
}

/** One user's satisfaction on one video, and when (the session scope pairs a user's own reactions). */
export interface UserObservation {
  userHash: string;
  videoId: string;
  satisfaction: number;
  atMs: number;
}

export type PairScope = 'request' | 'prompt' | 'session';
export type PairSplit = 'train' | 'validation' | 'test';
export type PairSource = 'observed' | 'reward_model';
export type PairWeighting = 'none' | 'evidence';

export const PAIR_SCOPES: readonly PairScope[] = ['request', 'prompt', 'session'];
export const PAIR_SPLITS: readonly PairSplit[] = ['train', 'validation', 'test'];

export interface SplitRatios {
  train: number;
  validation: number;
  test: number;
}

export interface PairOptions {
  /** Scopes to build, always emitted in the order request, prompt, session. */
  scopes: PairScope[];
  /** A preference needs |margin| ≥ minMargin. */
  minMargin: number;
  /** |margin| < tieBand is a tie. Defaults to minMargin, so every pair below the margin is a tie. */
  tieBand: number;
  /** Keep ties (tie: true) instead of dropping them. */
  includeTies: boolean;
  /** Minimum users with signals per video (request and prompt scopes; the session scope is one user's own view). */
  minEvidence: number;
  /** At most this many pairs per group, sampled deterministically (seeded); null = all. */
  maxPairsPerGroup: number | null;
  /** Session scope: two reactions of one user pair when they are at most this far apart. */
  sessionWindowMs: number;
  /** 'none': weight 1. 'evidence': h / (h + evidenceK), h = harmonic mean of the two videos' n. */
  weighting: PairWeighting;
  evidenceK: number;
  splitRatios: SplitRatios;
  seed: number;
}

export interface PairInput {
  videos: readonly VideoEvidence[];
  /** Needed by the session scope only. */
  observations?: Iterable<UserObservation>;
}

export interface Pair {
  chosenId: string;
  rejectedId: string;
  /** |score(chosen) − score(rejected)|, ≥ 0. */
  margin: number;
  tie: boolean;
  weight: number;
  scope: PairScope;
  /** 'request:<requestId>' | 'prompt:<promptNorm>' | 'user:<userHash>' */
  groupKey: string;
  split: PairSplit;
  source: PairSource;
}

export type RankingScore = 'observed' | 'reward_model';

export interface RankedCandidate {
  videoId: string;
  uri: string | null;
  score: number;
  n: number;
}

export interface RankedRequest {
  requestId: string;
  prompt: string;
  source: PairSource;
  /** Best first. */
  candidates: RankedCandidate[];
}

/**
 * A pair joined with what its exports need (one row of `preference_pairs`). `dimensions` holds, for each rating
 * dimension both videos have, chosen's mean rating minus rejected's.
 */
export interface PreferencePairRow {
  chosenId: string;
  rejectedId: string;
  chosenUri: string | null;
  rejectedUri: string | null;
  prompt: string;
  /** The shared request id; null when the two videos come from different requests. */
  requestId: string | null;
  /** The shared model version; null when the two videos come from different versions. */
  modelVersion: string | null;
  margin: number;
  weight: number;
  tie: boolean;
  scope: PairScope;
  groupKey: string;
  split: PairSplit;
  source: PairSource;
  dimensions: Record<string, number>;
  /** Each side's declared fps and frame count (videoalign-csv); null or absent when not declared. */
  chosenFps?: number | null;
  chosenFrames?: number | null;
  rejectedFps?: number | null;
  rejectedFrames?: number | null;
}

/**
 * One observed video of a set with its outcome (one row of `preference_outcomes`): what kto-jsonl (one line per
 * labelled video) and groups-jsonl (one line per prompt group) are encoded from. `reward` is the shrunk mean
 * satisfaction (−1..1, the unit of pair margins); `rewards` has, per rated dimension, (mean rating − 3) / 2 on the
 * same scale. `label`: true when more of its users liked, exported or chose it than discarded, regenerated or
 * disliked it, false for the reverse, null when neither outweighs (a tie: never in kto-jsonl, always counted).
 */
export interface VideoOutcome {
  videoId: string;
  requestId: string;
  prompt: string;
  promptNorm: string;
  uri: string | null;
  modelVersion: string;
  split: PairSplit;
  n: number;
  reward: number;
  rewards: Record<string, number>;
  positive: number;
  negative: number;
  label: boolean | null;
  fps: number | null;
  numFrames: number | null;
}
