import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DatabaseHealth, ModelsRepository, VideosRepository } from '@flywheel/database';
import { RewardScorer, groupAdvantages } from '@flywheel/reward-model';
import { FlywheelError, FieldProblem } from '@flywheel/errors';
import { validationFailed } from '../errors/validation';
import { RewardsRequest, ScoreCandidate, ScoreRequest } from './score.dto';

const RELOAD_INTERVAL_MS = 2000;
/** Sessions of models named in a request (not production) kept per process. */
const MAX_NAMED_MODELS = 8;
/** A replaced session may still be running a request; release it a little later. */
const RELEASE_DELAY_MS = 5000;

interface Loaded {
  modelId: string;
  version: number;
  scorer: RewardScorer;
}

export interface ScoreResponse {
  modelId: string;
  modelVersion: number;
  /** The model's dimension heads, in order (empty for a model without heads). */
  dimensions: string[];
  /** `dimensions` holds each head's score (absent for a model without heads). */
  rewards: { index: number; videoId: string | null; reward: number; dimensions?: Record<string, number> }[];
  /** Candidate indices, best first. */
  ranking: number[];
}

/** Columns in request order, keyed `overall` and then each dimension (no dimension may be named `overall`). */
export interface RewardsResponse {
  modelId: string;
  modelVersion: number;
  dimensions: string[];
  count: number;
  /** How many distinct groups the candidates form. */
  groups: number;
  rewards: Record<string, number[]>;
  /** Each reward normalised within its group (only when asked for). */
  advantages?: Record<string, number[]>;
}

function dimensionsOf(names: string[], perDimension: Float32Array, index: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let k = 0; k < names.length; k++) out[names[k]] = perDimension[index * names.length + k];
  return out;
}

/** The candidate index in a field path (`candidates[17].features` → 17), so problems are reported in request order. */
function indexOf(field: string): number {
  const m = /^candidates\[(\d+)\]/.exec(field);
  return m ? Number(m[1]) : -1;
}

/**
 * Scores candidates with each project's production reward model through onnxruntime-node: one session per project,
 * reused. Every RELOAD_INTERVAL_MS the loaded projects' production ids are checked, so a promotion reaches every
 * running api within seconds without a restart.
 */
@Injectable()
export class ScoringService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ScoringService.name);
  private readonly loaded = new Map<string, Loaded>();
  private readonly loading = new Map<string, Promise<Loaded | null>>();
  private readonly namedModels = new Map<string, Loaded>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly models: ModelsRepository, private readonly videos: VideosRepository, private readonly database: DatabaseHealth) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.reload().catch(() => undefined), RELOAD_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.loaded.values(), ...this.namedModels.values()].map((l) => l.scorer.release()));
  }

  async score(projectId: string, featureDim: number, request: ScoreRequest): Promise<ScoreResponse> {
    const { model, reward, rewards: perDimension } = await this.run(projectId, featureDim, request.candidates, request.modelId);
    const names = model.scorer.dimensions;
    const n = request.candidates.length;
    const ranking = Array.from({ length: n }, (_, i) => i).sort((a, b) => reward[b] - reward[a] || a - b);
    return {
      modelId: model.modelId,
      modelVersion: model.version,
      dimensions: names,
      rewards: request.candidates.map((c, index) => ({
        index, videoId: c.videoId ?? null, reward: reward[index],
        ...(names.length ? { dimensions: dimensionsOf(names, perDimension, index) } : {}),
      })),
      ranking,
    };
  }

  /**
   * Rewards of a batch of rollouts as columns (`rewards.overall[i]`, `rewards.<dimension>[i]`: a trainer's tensors,
   * and a third of the bytes of one object per candidate), and with `advantages` each reward normalised within its
   * group (groupAdvantages: population std, 0 for a group of one or of equal rewards).
   */
  async rewards(projectId: string, featureDim: number, request: RewardsRequest): Promise<RewardsResponse> {
    const { model, reward, rewards: perDimension } = await this.run(projectId, featureDim, request.candidates, request.modelId);
    const names = model.scorer.dimensions;
    const n = request.candidates.length;
    const groupIds = new Map<string, number>();
    const groupOf = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const key = String(request.candidates[i].group);
      let g = groupIds.get(key);
      if (g === undefined) groupIds.set(key, (g = groupIds.size));
      groupOf[i] = g;
    }
    const columns = (column: (k: number) => ArrayLike<number>) => {
      const out: Record<string, number[]> = { overall: Array.from(column(-1)) };
      for (let k = 0; k < names.length; k++) out[names[k]] = Array.from(column(k));
      return out;
    };
    const dimension = (k: number) => {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = perDimension[i * names.length + k];
      return values;
    };
    return {
      modelId: model.modelId, modelVersion: model.version, dimensions: names, count: n, groups: groupIds.size,
      rewards: columns((k) => (k < 0 ? reward : dimension(k))),
      ...(request.advantages
        ? { advantages: columns((k) => (k < 0 ? groupAdvantages(reward, groupOf, groupIds.size) : groupAdvantages(perDimension, groupOf, groupIds.size, names.length, k))) }
        : {}),
    };
  }

  /**
   * The one scoring path: the model (named, or the project's production one), the candidates' features (sent, or
   * stored for their videoId; every problem named by index) as one float32 matrix, one onnxruntime run.
   */
  private async run(projectId: string, featureDim: number, candidates: ScoreCandidate[], modelId?: string) {
    const named = modelId !== undefined ? await this.named(projectId, modelId) : null;
    const model = named ?? this.loaded.get(projectId) ?? (await this.load(projectId));
    if (!model) throw new FlywheelError('CONFLICT', 'this project has no production reward model yet: train one and promote it');
    const n = candidates.length;
    const features = new Float32Array(n * featureDim);
    const problems: FieldProblem[] = [];
    const byVideo = new Map<string, number[]>();
    candidates.forEach((c, i) => {
      if ((c.videoId == null) === (c.features == null)) {
        problems.push({ field: `candidates[${i}]`, problems: [`candidates[${i}] needs exactly one of videoId or features (featuresBase64)`] });
      } else if (c.features) {
        if (c.features.length !== featureDim) {
          const field = `candidates[${i}].${c.featuresBase64 != null ? 'featuresBase64' : 'features'}`;
          problems.push({ field, problems: [`${field} must have ${featureDim} values, got ${c.features.length}`] });
        } else features.set(c.features, i * featureDim);
      } else {
        const indices = byVideo.get(c.videoId!);
        if (indices) indices.push(i);
        else byVideo.set(c.videoId!, [i]);
      }
    });
    if (byVideo.size) {
      const stored = await this.videos.features(projectId, [...byVideo.keys()]);
      for (const [videoId, indices] of byVideo) {
        const vector = stored.get(videoId);
        for (const i of indices) {
          if (!vector) problems.push({ field: `candidates[${i}].videoId`, problems: [`candidates[${i}].videoId: no generation ${videoId} in this project`] });
          else features.set(vector, i * featureDim);
        }
      }
    }
    if (problems.length) throw validationFailed(problems.sort((a, b) => indexOf(a.field) - indexOf(b.field)));
    const { reward, rewards } = await model.scorer.scoreAll(features, n);
    return { model, reward, rewards };
  }

  /**
   * A named model of the project (production or not), so two models can be compared without promoting either.
   * Sessions of named models are kept (a few per process, the oldest released first).
   */
  private async named(projectId: string, modelId: string): Promise<Loaded> {
    const key = `${projectId}:${modelId}`;
    const cached = this.namedModels.get(key);
    if (cached) return cached;
    const row = await this.models.find(projectId, modelId);
    const bytes = row ? await this.models.onnx(projectId, modelId) : null;
    if (!row || !bytes) {
      throw new FlywheelError('VALIDATION_FAILED', `modelId: no model ${modelId} in this project`, { details: [{ field: 'modelId', problems: [`modelId: no model ${modelId} in this project`] }] });
    }
    const loaded = { modelId: row.id, version: row.version, scorer: await RewardScorer.create(bytes) };
    if (this.namedModels.size >= MAX_NAMED_MODELS) {
      const [oldestKey, oldest] = this.namedModels.entries().next().value as [string, Loaded];
      this.namedModels.delete(oldestKey);
      setTimeout(() => void oldest.scorer.release(), RELEASE_DELAY_MS).unref();
    }
    this.namedModels.set(key, loaded);
    return loaded;
  }

  private load(projectId: string): Promise<Loaded | null> {
    let pending = this.loading.get(projectId);
    if (!pending) {
      pending = (async () => {
        const production = await this.models.production(projectId);
        if (!production) return null;
        const bytes = await this.models.onnx(projectId, production.id);
        const loaded = { modelId: production.id, version: production.version, scorer: await RewardScorer.create(bytes!) };
        this.swap(projectId, loaded);
        return loaded;
      })().finally(() => this.loading.delete(projectId));
      this.loading.set(projectId, pending);
    }
    return pending;
  }

  private swap(projectId: string, next: Loaded | null): void {
    const previous = this.loaded.get(projectId);
    if (next) this.loaded.set(projectId, next);
    else this.loaded.delete(projectId);
    if (previous && previous.scorer !== next?.scorer) {
      setTimeout(() => void previous.scorer.release(), RELEASE_DELAY_MS).unref();
    }
  }

  private async reload(): Promise<void> {
    if (this.loaded.size === 0 || !this.database.connected) return;
    const current = await this.models.productionIds([...this.loaded.keys()]);
    for (const [projectId, loaded] of this.loaded) {
      const productionId = current.get(projectId);
      if (productionId === loaded.modelId) continue;
      if (!productionId) this.swap(projectId, null);
      else {
        await this.load(projectId);
        this.logger.log({ msg: 'production_model_loaded', projectId, modelId: productionId });
      }
    }
  }
}
