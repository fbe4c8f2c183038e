import { FlywheelError } from '@flywheel/errors';
import {
  ClaimedSet, EvidenceFilters, EvidenceRepository, ModelsRepository, PreferenceSetsRepository, SatisfactionRepository,
  StoredPairRow, StoredRanking,
} from '@flywheel/database';
import {
  ExportFormat, ExportStats, GroupBy, Pair, PairScope, PairSplit, PreferencePairRow, RankedRequest, VIDEOALIGN_DIMENSIONS,
  VideoEvidence, VideoOutcome, buildPairs, encodeGroupsJsonl, encodeKtoJsonl, encodeRankings, encodeVideoAlignCsv,
  newExportStats, newUserSalt, preferenceSetSha256, rankRequests, resolvePairOptions, rewardModelPairs, saltGroupKey,
  toPairRow, videoOutcomes, videoPathOf,
} from '@flywheel/preferences';
import { RewardScorer } from '@flywheel/reward-model';
import { CURRENT_POLICY } from '@flywheel/satisfaction';
import { parallelExport } from './parallel-export';
import { toVideoEvidence } from '@flywheel/training';

export interface PreferenceSetRequest {
  from?: string;
  to?: string;
  modelVersions?: string[];
  categories?: string[];
  segments?: string[];
  scopes?: PairScope[];
  minMargin?: number;
  includeTies?: boolean;
  minEvidence?: number;
  maxPairsPerGroup?: number;
  /** Add pairs and rankings from the production reward model for requests without enough observed evidence. */
  rewardModel?: boolean;
  maxPairs?: number;
  /** Keep only this split. */
  split?: 'train' | 'validation' | 'test';
  seed?: number;
}

const PAGE = 5000;
export const PREFERENCE_MESSAGE_VERSION = 'flywheel.preferences.v1';

/** Thrown when another trainer took the set over (this one's heartbeat went stale): its work is abandoned. */
export class LostClaimError extends FlywheelError<'CLAIM_LOST'> {
  constructor(message: string) {
    super('CLAIM_LOST', message);
  }
}

/**
 * The pair options a set request asks for, checked by the pair builder now, so a request it would refuse is refused
 * when it is made (PreferencesError 'INVALID_OPTIONS' naming the option) rather than failing its build later.
 */
export function pairOptionsOf(request: PreferenceSetRequest) {
  const options = {
    scopes: request.scopes ?? (['request', 'prompt'] as PairScope[]), minMargin: request.minMargin ?? 0.05,
    includeTies: request.includeTies ?? true, minEvidence: request.minEvidence ?? 1,
    maxPairsPerGroup: request.maxPairsPerGroup ?? null, seed: request.seed ?? 1,
  };
  resolvePairOptions(options);
  return options;
}

/**
 * Builds an immutable snapshot of a set claimed from the queue (the trainer runs this; see claimBuild): rows an
 * earlier attempt left are cleared, pairs stream from the builder into the table a page at a time (a million pairs
 * are never all in memory), then ranked lists, then the content hash is computed from the stored rows — the same
 * rows every export reads — and the manifest is written, if this attempt still holds the set. `stillHeld` is asked
 * before every write: a build whose claim was lost stops instead of writing into the newer attempt's rows.
 */
export async function buildPreferenceSet(
  deps: { evidence: EvidenceRepository; sets: PreferenceSetsRepository; models: ModelsRepository; satisfaction: SatisfactionRepository },
  set: ClaimedSet,
  request: PreferenceSetRequest,
  stillHeld: () => boolean = () => true,
): Promise<Record<string, unknown>> {
  const held = () => {
    if (!stillHeld()) throw new LostClaimError(`lost the claim on preference set ${set.id} (attempt ${set.attempts}); another trainer builds it`);
  };
  await deps.sets.clearRows(set.id);
  // A new salt per attempt: the rows of an abandoned attempt are cleared with it, so no two builds share one.
  const salt = newUserSalt();
  held();
  await deps.sets.setUserSalt(set.id, salt);
  const filters: EvidenceFilters = {
    from: request.from ? new Date(request.from) : undefined, to: request.to ? new Date(request.to) : undefined,
    modelVersions: request.modelVersions, categories: request.categories, segments: request.segments,
  };
  const rows = await deps.evidence.videos(set.projectId, filters);
  const videos = toVideoEvidence(rows);
  const byId = new Map(videos.map((v) => [v.videoId, v]));
  const options = pairOptionsOf(request);
  const scopes = options.scopes;
  const observations = scopes.includes('session') ? await deps.evidence.userObservations(set.projectId, filters) : undefined;

  let rewardModel: { id: string; version: number } | null = null;
  const lowEvidence: VideoEvidence[] = [];
  if (request.rewardModel) {
    const production = await deps.models.production(set.projectId);
    if (production) {
      rewardModel = { id: production.id, version: production.version };
      lowEvidence.push(...(await scoreThinRequests(deps.models, set.projectId, production.id, videos, rows.map((r) => r.features), options.minEvidence)));
    }
  }

  const counts = { pairs: 0, ties: 0, rankings: 0, outcomes: 0, neutralOutcomes: 0, bySplit: {} as Record<string, number>, bySource: {} as Record<string, number>, byScope: {} as Record<string, number> };
  const bump = (map: Record<string, number>, key: string) => { map[key] = (map[key] ?? 0) + 1; };
  let page: StoredPairRow[] = [];
  const flush = async () => {
    held();
    await deps.sets.insertPairs(set.id, counts.pairs - page.length, page);
    page = [];
  };
  const sources: Iterable<Pair>[] = [buildPairs({ videos, observations }, options)];
  if (lowEvidence.length) sources.push(rewardModelPairs(lowEvidence, options));
  outer: for (const source of sources) {
    for (const pair of source) {
      if (request.split && pair.split !== request.split) continue;
      if (request.maxPairs !== undefined && counts.pairs >= request.maxPairs) break outer;
      // Session pairs are grouped by user: the set stores a per-set salted id, never the user hash (issue 15).
      const row = toPairRow(pair, byId.get(pair.chosenId)!, byId.get(pair.rejectedId)!);
      if (pair.scope === 'session') row.groupKey = saltGroupKey(salt, row.groupKey);
      page.push(row);
      counts.pairs++;
      if (pair.tie) counts.ties++;
      bump(counts.bySplit, pair.split);
      bump(counts.bySource, pair.source);
      bump(counts.byScope, pair.scope);
      if (page.length >= PAGE) await flush();
    }
  }
  await flush();

  const rankings: RankedRequest[] = [
    ...rankRequests(videos, 'observed', { minEvidence: options.minEvidence }),
    ...(lowEvidence.length ? rankRequests(lowEvidence, 'reward_model') : []),
  ];
  counts.rankings = rankings.length;
  for (let i = 0; i < rankings.length; i += PAGE) {
    held();
    await deps.sets.insertRankings(set.id, i, rankings.slice(i, i + PAGE));
  }

  const { splitRatios, seed } = resolvePairOptions(options);
  const outcomes = videoOutcomes(videos, { minEvidence: options.minEvidence, splitRatios, seed })
    .filter((o) => !request.split || o.split === request.split);
  counts.outcomes = outcomes.length;
  counts.neutralOutcomes = outcomes.filter((o) => o.label === null).length;
  for (let i = 0; i < outcomes.length; i += PAGE) {
    held();
    await deps.sets.insertOutcomes(set.id, i, outcomes.slice(i, i + PAGE));
  }

  const contentSha256 = await preferenceSetSha256({
    pairsJsonl: parallelExport(deps.sets, set.id, 'pairs-jsonl'), rankings: storedRankings(deps.sets, set.id), outcomes: storedOutcomes(deps.sets, set.id),
  });
  const manifest = {
    schema: 'flywheel.preference-set.v1', setId: set.id, projectId: set.projectId, filters: request,
    policyVersion: CURRENT_POLICY.id,
    // Scores depend on the policy and on the watch quantiles it ranked watch time with.
    watchQuantiles: await deps.satisfaction.quantilesProvenance(set.projectId, CURRENT_POLICY.id),
    rewardModel, counts, contentSha256, createdAt: set.createdAt,
  };
  if (!(await deps.sets.finish(set.id, manifest, contentSha256, set.attempts))) {
    throw new LostClaimError(`preference set ${set.id} was taken over before attempt ${set.attempts} finished`);
  }
  return manifest;
}

/** Scores, with the production model, the videos of requests where no candidate has `minEvidence` observers. */
async function scoreThinRequests(models: ModelsRepository, projectId: string, modelId: string, videos: VideoEvidence[], features: number[][], minEvidence: number): Promise<VideoEvidence[]> {
  const observed = new Set(videos.filter((v) => v.n >= minEvidence).map((v) => v.requestId));
  const thin = videos.map((v, i) => ({ v, i })).filter(({ v }) => !observed.has(v.requestId));
  if (thin.length === 0) return [];
  const scorer = await RewardScorer.create((await models.onnx(projectId, modelId))!);
  try {
    const dim = scorer.featureDim;
    const matrix = new Float32Array(thin.length * dim);
    thin.forEach(({ i }, row) => matrix.set(features[i], row * dim));
    const scores = await scorer.score(matrix, thin.length);
    return thin.map(({ v }, row) => Object.assign(v, { rewardScore: scores[row] }));
  } finally {
    await scorer.release();
  }
}

/** What an export may ask for besides its format (each format reads the options that apply to it). */
export interface ExportOptions {
  /** Only this split's rows. */
  split?: PairSplit;
  /** videoalign-csv, kto-jsonl, groups-jsonl: paths as `…{videoId}…` (files the trainer can open). */
  pathTemplate?: string;
  /** videoalign-csv: add the `overall` column. */
  overall?: boolean;
  /** videoalign-csv: seed of the balanced A/B order. */
  seed?: number;
  /** groups-jsonl: group the candidates of a request (default) or of a prompt across requests. */
  groupBy?: GroupBy;
}

/** What an export holds and leaves out, known before its bytes stream (the response headers and the CLI say it). */
export interface ExportCounts {
  /** Rows of the set the export reads (pairs, ranked requests or outcomes), after the split filter. */
  rows: number;
  /** Ties among them (pairs: tie pairs; kto-jsonl: neutral outcomes). */
  ties: number;
  /** Ties the format leaves out (dpo-jsonl: every tie pair; kto-jsonl: every neutral outcome); 0 where ties are rows. */
  tiesSkipped: number;
  /** videoalign-csv without `overall`: pairs with no label in VQ, MQ or TA, left out. */
  unlabelledSkipped: number;
}

/**
 * A stored set in one export format, as a stream of bytes: dpo-jsonl, pairs-jsonl and parquet from the COPY bytes on
 * two worker threads (parallel-export.ts); videoalign-csv, ranked-jsonl, kto-jsonl and groups-jsonl through their
 * row encoders. One encoder per format. Options are checked before any byte is produced (PreferencesError
 * INVALID_OPTIONS naming the option). `stats` is filled in as the stream goes.
 */
export function encodeStoredSet(
  sets: PreferenceSetsRepository, setId: string, format: ExportFormat, options: ExportOptions = {}, stats: ExportStats = newExportStats(),
): AsyncIterable<Buffer> {
  if (options.pathTemplate !== undefined) videoPathOf(options);
  switch (format) {
    case 'dpo-jsonl':
    case 'pairs-jsonl':
    case 'parquet':
      return parallelExport(sets, setId, format, { split: options.split });
    case 'videoalign-csv':
      return encodeVideoAlignCsv(storedPairs(sets, setId, options.split), { pathTemplate: options.pathTemplate, overall: options.overall, seed: options.seed }, stats);
    case 'ranked-jsonl':
      return encodeRankings(storedRankings(sets, setId), stats);
    case 'kto-jsonl':
      return encodeKtoJsonl(storedOutcomes(sets, setId, options.split), { pathTemplate: options.pathTemplate }, stats);
    case 'groups-jsonl':
      return encodeGroupsJsonl(storedOutcomes(sets, setId, options.split, options.groupBy === 'prompt'), { pathTemplate: options.pathTemplate, groupBy: options.groupBy }, stats);
  }
}

/** The counts of ExportCounts for an export of a stored set, from the database, before it streams. */
export async function exportCounts(sets: PreferenceSetsRepository, setId: string, format: ExportFormat, options: ExportOptions = {}): Promise<ExportCounts> {
  switch (format) {
    case 'dpo-jsonl':
    case 'pairs-jsonl':
    case 'parquet':
    case 'videoalign-csv': {
      const labelled = format === 'videoalign-csv' && !options.overall ? VIDEOALIGN_DIMENSIONS.map(([, d]) => d) : [];
      const c = await sets.pairCounts(setId, options.split, labelled);
      return {
        rows: c.pairs, ties: c.ties, tiesSkipped: format === 'dpo-jsonl' ? c.ties : 0,
        unlabelledSkipped: format === 'videoalign-csv' && !options.overall ? c.unlabelled : 0,
      };
    }
    case 'ranked-jsonl':
      return { rows: (await sets.rankingCount(setId)), ties: 0, tiesSkipped: 0, unlabelledSkipped: 0 };
    case 'kto-jsonl':
    case 'groups-jsonl': {
      const c = await sets.outcomeCounts(setId, options.split);
      return { rows: c.outcomes, ties: c.neutral, tiesSkipped: format === 'kto-jsonl' ? c.neutral : 0, unlabelledSkipped: 0 };
    }
  }
}

export async function* storedOutcomes(sets: PreferenceSetsRepository, setId: string, split?: PairSplit, byPrompt = false): AsyncGenerator<VideoOutcome[]> {
  yield* sets.outcomePages(setId, { split, byPrompt });
}

/** A stored set's pairs, a page at a time, as the encoders read them. */
export async function* storedPairs(sets: PreferenceSetsRepository, setId: string, split?: PairSplit): AsyncGenerator<PreferencePairRow[]> {
  for await (const page of sets.pairPages(setId, -1, split)) yield page.map(({ seq: _seq, ...row }) => row);
}

export async function* storedRankings(sets: PreferenceSetsRepository, setId: string): AsyncGenerator<RankedRequest> {
  for await (const { seq: _seq, ...row } of sets.rankings(setId)) yield row;
}
