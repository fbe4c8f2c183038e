/*
 * Reward-model training benchmark: `npm run bench:train -- --pairs 1000000 [--dim 64] [--items N] [--threads 2]
 * [--mlp-epochs 3] [--mlp-lr 0.005] [--mlp-batch 512]`.
 *
 * For each of two synthetic truths (linear, and linear + feature products + a sine), items get a known latent reward
 * and pairs get outcomes drawn from the Bradley–Terry probability of that truth. A linear model and an MLP D→64→1 are
 * trained on 85% of the pairs (5% validation for early stopping) and scored on the 10% test pairs. The ceiling is
 * measured in the same run: the Bayes-optimal accuracy on those test pairs, i.e. how often the truth itself (a wins
 * when truth(a) > truth(b)) agrees with the sampled outcomes.
 *
 * Prints a table, then as the last line one JSON object holding both truths —
 * {"pairs", "linear": {linearSeconds, linearAccuracy, mlpSeconds, mlpAccuracy, bayesAccuracy}, "nonlinear": {…}} —
 * because the figures only mean something side by side: the linear truth shows the linear model reaching Bayes, the
 * non-linear truth shows what the MLP buys over it.
 *
 * `--heads K` (default 3) also reports what a K-head model costs, on the linear truth: heads are trained separately,
 * one linear model per dimension on the pairs labelled for it (here all pairs, the most a head can cost), so training
 * costs K more linear runs; serving runs one ONNX graph whose `rewards` [N, K] output shares the input, measured as
 * rows/s through onnxruntime-node on 10,000-row batches with and without the heads ("heads" in the JSON).
 */
import {
  RewardScorer,
  evaluatePairs,
  writeOnnx,
  PAIR_SPLIT,
  predict,
  selectPairs,
  syntheticPreferences,
  trainRewardModel,
  type SyntheticTruth,
  type TrainOptions,
  type TrainResult,
} from '@flywheel/reward-model';

interface Args {
  pairs: number;
  dim: number;
  items: number;
  threads: number;
  seed: number;
  mlpEpochs: number;
  mlpLearningRate: number;
  mlpBatch: number;
  heads: number;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string): number | undefined => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const parsed = Number(argv[i + 1]);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} needs a positive number`);
    return parsed;
  };
  const pairs = Math.round(value('pairs') ?? 1_000_000);
  return {
    pairs,
    dim: Math.round(value('dim') ?? 64),
    items: Math.round(value('items') ?? Math.max(1000, Math.round(pairs / 5))),
    threads: Math.round(value('threads') ?? 2),
    seed: Math.round(value('seed') ?? 42),
    mlpEpochs: Math.round(value('mlp-epochs') ?? 3),
    mlpLearningRate: value('mlp-lr') ?? 0.005,
    mlpBatch: Math.round(value('mlp-batch') ?? 512),
    heads: Math.round(value('heads') ?? 3),
  };
}

interface ModelRow {
  truth: SyntheticTruth;
  model: string;
  seconds: number;
  epochs: string;
  accuracy: number;
  auc: number;
  logLoss: number;
  bayesAccuracy: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const linearOptions: TrainOptions = {
    kind: 'linear',
    batchSize: 4096,
    learningRate: 0.02,
    learningRateDecay: 0.7,
    maxEpochs: 12,
    patience: 2,
    l2: 1e-6,
    seed: args.seed,
  };
  const mlpOptions: TrainOptions = {
    kind: 'mlp',
    hiddenLayers: [64],
    batchSize: args.mlpBatch,
    learningRate: args.mlpLearningRate,
    learningRateDecay: 0.5,
    maxEpochs: args.mlpEpochs,
    patience: 1,
    l2: 1e-6,
    seed: args.seed,
    threads: args.threads,
  };
  console.log(
    `train bench: ${args.pairs.toLocaleString('en-US')} pairs over ${args.items.toLocaleString('en-US')} items, ` +
      `${args.dim} features, MLP ${args.dim}→64→1 on ${args.threads} thread(s)`,
  );
  const rows: ModelRow[] = [];
  const summary: Record<string, Record<string, number>> = {};
  let trainPairs = 0;
  for (const truth of ['linear', 'nonlinear'] as const) {
    const data = syntheticPreferences({
      nItems: args.items,
      nPairs: args.pairs,
      dim: args.dim,
      truth,
      seed: args.seed + (truth === 'linear' ? 0 : 1),
    });
    const test = selectPairs(data.pairs, data.split, PAIR_SPLIT.test);
    const bayes = evaluatePairs(gatherScores(data.truth, test.a), gatherScores(data.truth, test.b), test.outcome);
    const trainingData = { ...data, pairs: data.pairs, split: data.split };
    const results: Record<'linear' | 'mlp', { result: TrainResult; metrics: ReturnType<typeof evaluatePairs> }> =
      {} as never;
    for (const options of [linearOptions, mlpOptions]) {
      const result = trainRewardModel(trainingData, options);
      trainPairs = result.counts.trainPairs;
      const scores = predict(result.model, data.features, data.nItems);
      const metrics = evaluatePairs(gatherScores(scores, test.a), gatherScores(scores, test.b), test.outcome);
      results[options.kind] = { result, metrics };
      rows.push({
        truth,
        model: options.kind === 'linear' ? 'linear' : `mlp ${args.dim}→64→1`,
        seconds: result.seconds,
        epochs: `${result.bestEpoch}/${result.history.length}`,
        accuracy: metrics.accuracy,
        auc: metrics.auc,
        logLoss: metrics.logLoss,
        bayesAccuracy: bayes.accuracy,
      });
    }
    summary[truth] = {
      linearSeconds: round(results.linear.result.seconds, 3),
      linearAccuracy: round(results.linear.metrics.accuracy, 4),
      mlpSeconds: round(results.mlp.result.seconds, 3),
      mlpAccuracy: round(results.mlp.metrics.accuracy, 4),
      bayesAccuracy: round(bayes.accuracy, 4),
    };
  }
  console.log(`train pairs ${trainPairs.toLocaleString('en-US')}; test pairs are the 10% split; epochs = best/run`);
  printTable(rows);
  const heads = await headsCost(args, linearOptions, summary.linear.linearSeconds);
  console.log(
    `K-head model (K = ${args.heads}, linear truth): heads trained in ${heads.headsSeconds.toFixed(2)} s ` +
      `(${heads.trainingRatio.toFixed(2)}× the overall model's ${heads.overallSeconds.toFixed(2)} s); scoring ` +
      `${Math.round(heads.rowsPerSecondWithHeads).toLocaleString('en-US')} rows/s with the heads vs ` +
      `${Math.round(heads.rowsPerSecondOverallOnly).toLocaleString('en-US')} without (${heads.scoringRatio.toFixed(2)}×, median of 7 alternating rounds)`,
  );
  console.log(JSON.stringify({ pairs: args.pairs, ...summary, heads }));
}

/** Training and serving cost of K separately trained linear heads next to the overall model (the table's linear run). */
async function headsCost(args: Args, options: TrainOptions, overallSeconds: number) {
  const data = syntheticPreferences({ nItems: args.items, nPairs: args.pairs, dim: args.dim, truth: 'linear', seed: args.seed });
  const trainingData = { ...data, pairs: data.pairs, split: data.split };
  const overall = trainRewardModel(trainingData, options);
  let headsSeconds = 0;
  const heads = [];
  for (let k = 0; k < args.heads; k++) {
    const head = trainRewardModel(trainingData, { ...options, seed: options.seed! + k + 1 });
    headsSeconds += head.seconds;
    heads.push({ name: `dimension_${k}`, model: head.model });
  }
  const meta = { policyVersion: 'bench', preferenceSetId: 'bench', metrics: {}, seed: 1, createdAt: new Date(0) };
  const plain = await RewardScorer.create(writeOnnx(overall.model, meta));
  const withHeads = await RewardScorer.create(writeOnnx(overall.model, meta, heads));
  const rows = 10_000;
  const batch = data.features.subarray(0, Math.min(rows, data.nItems) * args.dim);
  const n = batch.length / args.dim;
  const rate = async (scorer: RewardScorer) => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) await scorer.scoreAll(batch, n);
    return (20 * n) / ((performance.now() - started) / 1000);
  };
  const plainRates: number[] = [];
  const headRates: number[] = [];
  await rate(plain);
  await rate(withHeads);
  for (let round = 0; round < 7; round++) {
    plainRates.push(await rate(plain));
    headRates.push(await rate(withHeads));
  }
  await plain.release();
  await withHeads.release();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const rowsPerSecondOverallOnly = median(plainRates);
  const rowsPerSecondWithHeads = median(headRates);
  return {
    k: args.heads,
    overallSeconds: round(overallSeconds, 3),
    headsSeconds: round(headsSeconds, 3),
    trainingRatio: round(headsSeconds / overallSeconds, 3),
    rowsPerSecondOverallOnly: Math.round(rowsPerSecondOverallOnly),
    rowsPerSecondWithHeads: Math.round(rowsPerSecondWithHeads),
    scoringRatio: round(rowsPerSecondWithHeads / rowsPerSecondOverallOnly, 3),
  };
}

function gatherScores(scores: Float32Array, items: Int32Array): Float32Array {
  const out = new Float32Array(items.length);
  for (let p = 0; p < items.length; p++) out[p] = scores[items[p]];
  return out;
}

function printTable(rows: ModelRow[]): void {
  const header = ['truth', 'model', 'train s', 'epochs', 'test acc', 'bayes acc', 'gap (pt)', 'AUC', 'log loss'];
  const body = rows.map((r) => [
    r.truth,
    r.model,
    r.seconds.toFixed(2),
    r.epochs,
    r.accuracy.toFixed(4),
    r.bayesAccuracy.toFixed(4),
    ((r.bayesAccuracy - r.accuracy) * 100).toFixed(2),
    r.auc.toFixed(4),
    r.logLoss.toFixed(4),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padStart(widths[c])).join('  ');
  console.log(line(header));
  for (const row of body) console.log(line(row));
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
