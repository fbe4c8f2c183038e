import { FlywheelError } from '@flywheel/errors';
import {
  ClaimedSet, EvidenceFilters, EvidenceRepository, ModelsRepository, PreferenceSetsRepository, SatisfactionRepository,
  StoredPairRow, StoredRanking,
} from '@flywheel/database';
import {
  ExportFormat, Pair, PairScope, PreferencePairRow, RankedRequest, VideoEvidence, buildPairs,
  encodeRankings, encodeVideoAlignCsv,
  preferenceSetSha256, rankRequests, resolvePairOptions, rewardModelPairs, toPairRow,
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

  const counts = { pairs: 0, ties: 0, rankings: 0, bySplit: {} as Record<string, number>, bySource: {} as Record<string, number>, byScope: {} as Record<string, number> };
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
      page.push(toPairRow(pair, byId.get(pair.chosenId)!, byId.get(pair.rejectedId)!));
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

  const contentSha256 = await preferenceSetSha256({ pairsJsonl: parallelExport(deps.sets, set.id, 'pairs-jsonl'), rankings: storedRankings(deps.sets, set.id) });
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

/**
 * A stored set in one export format, as a stream of bytes: dpo-jsonl, pairs-jsonl and parquet from the COPY bytes on
 * two worker threads (parallel-export.ts), videoalign-csv and ranked-jsonl through their row encoders. One encoder
 * per format.
 */
export function encodeStoredSet(sets: PreferenceSetsRepository, setId: string, format: ExportFormat): AsyncIterable<Buffer> {
  switch (format) {
    case 'dpo-jsonl':
    case 'pairs-jsonl':
    case 'parquet':
      return parallelExport(sets, setId, format);
    case 'videoalign-csv':
      return encodeVideoAlignCsv(storedPairs(sets, setId));
    case 'ranked-jsonl':
      return encodeRankings(storedRankings(sets, setId));
  }
}

/** A stored set's pairs, a page at a time, as the encoders read them. */
export async function* storedPairs(sets: PreferenceSetsRepository, setId: string): AsyncGenerator<PreferencePairRow[]> {
  for await (const page of sets.pairPages(setId)) yield page.map(({ seq: _seq, ...row }) => row);
}

export async function* storedRankings(sets: PreferenceSetsRepository, setId: string): AsyncGenerator<RankedRequest> {
  for await (const { seq: _seq, ...row } of sets.rankings(setId)) yield row;
}
