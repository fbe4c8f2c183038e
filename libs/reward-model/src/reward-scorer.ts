import * as ort from 'onnxruntime-node';
import {
  ONNX_INPUT,
  ONNX_OUTPUT,
  ONNX_REWARDS,
  parseRewardModelMetadata,
  readOnnxMetadata,
  type RewardModelMetadata,
} from './onnx-writer';
import { RewardModelError } from './reward-model.errors';

export interface RewardScorerOptions {
  /**
   * Threads onnxruntime may use inside one run (default 1). onnxruntime-node runs a session synchronously on the
   * JavaScript thread (inside a setImmediate), so with 1 all the work stays on that thread and nothing else spins.
   * One is right for serving: a request scores tens of candidates, too little to split (at batch 64 a second thread
   * bought nothing in `npm run bench:score-model`: ~4–5M rows/s either way), and on a 2-core machine a second pool
   * thread spin-waits on the core that the event loop and libuv need. Two pay off for offline batches of ~10,000
   * rows (~22M vs ~14M rows/s measured).
   */
  intraOpThreads?: number;
}

/**
 * One onnxruntime InferenceSession for one reward model, created from the model's bytes and reused by every call.
 * Calls may overlap; onnxruntime-node runs them one after another on the JavaScript thread, so a 10,000-row batch
 * holds the event loop for about a millisecond: score large offline batches in chunks or from a worker thread.
 */
export class RewardScorer {
  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly metadata: RewardModelMetadata,
  ) {}

  get featureDim(): number {
    return this.metadata.featureDim;
  }

  static async create(bytes: Uint8Array, options: RewardScorerOptions = {}): Promise<RewardScorer> {
    const metadata = parseRewardModelMetadata(readOnnxMetadata(bytes));
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (cause) {
      throw new RewardModelError('INVALID_ONNX', 'onnxruntime could not load the reward model', { cause });
    }
    const headsMissing = metadata.dimensions.length > 0 && !session.outputNames.includes(ONNX_REWARDS);
    if (!session.inputNames.includes(ONNX_INPUT) || !session.outputNames.includes(ONNX_OUTPUT) || headsMissing) {
      await session.release();
      throw new RewardModelError('INVALID_ONNX', `the model must read "${ONNX_INPUT}" and write "${ONNX_OUTPUT}"`, {
        details: { inputs: session.inputNames, outputs: session.outputNames },
      });
    }
    return new RewardScorer(session, metadata);
  }

  /** Names of the per-dimension heads (the columns of `rewards`); empty for a single-head model. */
  get dimensions(): string[] {
    return this.metadata.dimensions;
  }

  /** Rewards of n candidates whose raw features are n × featureDim floats, row-major. */
  async score(features: Float32Array, n: number): Promise<Float32Array> {
    return (await this.scoreAll(features, n)).reward;
  }

  /**
   * The overall reward [n] and, for a model with dimension heads, the per-dimension rewards [n × K], row-major, in
   * the order of `dimensions` (empty otherwise).
   */
  async scoreAll(features: Float32Array, n: number): Promise<{ reward: Float32Array; rewards: Float32Array }> {
    if (this.released) throw new RewardModelError('SCORER_RELEASED', 'the scorer was released');
    const dim = this.metadata.featureDim;
    if (!Number.isInteger(n) || n < 0 || features.length !== n * dim) {
      throw new RewardModelError(
        'FEATURE_DIM_MISMATCH',
        `expected ${n} rows of ${dim} features (${n * dim} values), got ${features.length} values`,
        { details: { rows: n, featureDim: dim, values: features.length } },
      );
    }
    if (n === 0) return { reward: new Float32Array(0), rewards: new Float32Array(0) };
    const input = new ort.Tensor('float32', features, [n, dim]);
    const output = await this.session.run({ [ONNX_INPUT]: input });
    const rewards = this.metadata.dimensions.length > 0 ? (output[ONNX_REWARDS].data as Float32Array) : new Float32Array(0);
    return { reward: output[ONNX_OUTPUT].data as Float32Array, rewards };
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
