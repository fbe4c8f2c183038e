import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DatabaseHealth, ModelsRepository, VideosRepository } from '@flywheel/database';
import { RewardScorer } from '@flywheel/reward-model';
import { FlywheelError, FieldProblem } from '@flywheel/errors';
import { ScoreRequest } from './score.dto';

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
    const named = request.modelId !== undefined ? await this.named(projectId, request.modelId) : null;
    const model = named ?? this.loaded.get(projectId) ?? (await this.load(projectId));
    if (!model) throw new FlywheelError('CONFLICT', 'this project has no production reward model yet: train one and promote it');
    const n = request.candidates.length;
    const features = new Float32Array(n * featureDim);
    const problems: FieldProblem[] = [];
    const byVideo = new Map<string, number[]>();
    request.candidates.forEach((c, i) => {
      if ((c.videoId === undefined) === (c.features === undefined)) {
        problems.push({ field: `candidates[${i}]`, problems: [`candidates[${i}] needs exactly one of videoId or features`] });
      } else if (c.features) {
        if (c.features.length !== featureDim) {
          problems.push({ field: `candidates[${i}].features`, problems: [`candidates[${i}].features must have ${featureDim} values, got ${c.features.length}`] });
        } else features.set(c.features, i * featureDim);
      } else {
        byVideo.set(c.videoId!, [...(byVideo.get(c.videoId!) ?? []), i]);
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
    if (problems.length) throw new FlywheelError('VALIDATION_FAILED', problems[0].problems[0], { details: problems });
    const { reward: rewards, rewards: perDimension } = await model.scorer.scoreAll(features, n);
    const names = model.scorer.dimensions;
    const ranking = Array.from({ length: n }, (_, i) => i).sort((a, b) => rewards[b] - rewards[a] || a - b);
    return {
      modelId: model.modelId,
      modelVersion: model.version,
      dimensions: names,
      rewards: request.candidates.map((c, index) => ({
        index, videoId: c.videoId ?? null, reward: rewards[index],
        ...(names.length ? { dimensions: Object.fromEntries(names.map((name, k) => [name, perDimension[index * names.length + k]])) } : {}),
      })),
      ranking,
    };
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
