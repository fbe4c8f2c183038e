import type { HeadGateStatistics } from './promotion-gate';
import type { ResolvedTrainOptions, TrainResult } from './bradley-terry.trainer';
import { randomBaseline, type BaselineMetrics, type PairMetrics } from './pair-evaluation';
import type { RewardModel } from './reward-model.types';

export interface ModelCardInput {
  /** Shown as the title; defaults to "<kind> reward model". */
  name?: string;
  model: RewardModel;
  training: Pick<TrainResult, 'options' | 'history' | 'bestEpoch' | 'stoppedEarly' | 'seconds' | 'counts'> & {
    threads?: number;
    stoppedBy?: TrainResult['stoppedBy'];
  };
  provenance: { policyVersion: string; preferenceSetId: string; createdAt: Date | string; modelVersion?: string };
  /** The model's metrics on the evaluation pairs. */
  metrics: PairMetrics;
  /**
   * Baselines measured by the caller on the same evaluation pairs, in the order given. `random` defaults to
   * randomBaseline(); the trainer adds perGenerator, bestSingleFeature, logisticRegression (and linear on an MLP).
   */
  baselines?: Record<string, BaselineMetrics & { note?: string }>;
  /** The promotion decision and its statistics, once made. */
  promotion?: Record<string, unknown> & { promoted: boolean; reason: string };
  /** Per-dimension heads (the `rewards` columns), each measured on its own test pairs. */
  heads?: HeadCardEntry[];
}

export interface HeadCardEntry {
  name: string;
  trained: boolean;
  reason: string | null;
  pairs: { train: number; validation: number; test: number };
  metrics: PairMetrics | null;
  epochsRun: number | null;
  bestEpoch: number | null;
  stoppedBy: string | null;
}

export interface ModelCard {
  schema: 'flywheel.reward-model-card.v1';
  name: string;
  model: {
    kind: RewardModel['kind'];
    featureDim: number;
    hiddenLayers: number[];
    parameters: number;
    ties: RewardModel['ties'] | null;
  };
  training: {
    seed: number;
    options: ResolvedTrainOptions;
    epochsRun: number;
    bestEpoch: number;
    stoppedEarly: boolean;
    stoppedBy: TrainResult['stoppedBy'] | null;
    seconds: number;
    threads: number;
    history: TrainResult['history'];
  };
  data: TrainResult['counts'] & { evaluationPairs: number; evaluationDecisivePairs: number; evaluationTies: number };
  provenance: { policyVersion: string; preferenceSetId: string; createdAt: string; modelVersion: string | null };
  metrics: BaselineMetrics;
  baselines: Record<string, BaselineMetrics & { note?: string }>;
  promotion: (Record<string, unknown> & { promoted: boolean; reason: string }) | null;
  heads: HeadCardEntry[];
}

const BASELINE_LABELS: Record<string, string> = {
  random: 'random',
  perVideoMeanSatisfaction: 'per-video mean satisfaction',
  perGenerator: 'per-generator mean',
  bestSingleFeature: 'best single feature',
  logisticRegression: 'logistic-regression BT',
  linear: 'linear model',
};

/** A model card as JSON (for the model registry and the API) and as markdown (for people). */
export function modelCard(input: ModelCardInput): { json: ModelCard; markdown: string } {
  const { model, training, metrics, provenance } = input;
  const baselines: Record<string, BaselineMetrics & { note?: string }> = { random: input.baselines?.random ?? randomBaseline() };
  for (const [key, value] of Object.entries(input.baselines ?? {})) {
    if (key !== 'random') baselines[key] = value.note ? { ...pick(value), note: value.note } : pick(value);
  }
  const json: ModelCard = {
    schema: 'flywheel.reward-model-card.v1',
    name: input.name ?? `${model.kind} reward model`,
    model: {
      kind: model.kind,
      featureDim: model.inputDim,
      hiddenLayers: [...model.hiddenLayers],
      parameters: model.layers.reduce((sum, layer) => sum + layer.weights.length + layer.bias.length, 0),
      ties: model.ties ?? null,
    },
    training: {
      seed: training.options.seed,
      options: training.options,
      epochsRun: training.history.length,
      bestEpoch: training.bestEpoch,
      stoppedEarly: training.stoppedEarly,
      stoppedBy: training.stoppedBy ?? null,
      seconds: training.seconds,
      threads: training.threads ?? 1,
      history: training.history,
    },
    data: {
      ...training.counts,
      evaluationPairs: metrics.pairs,
      evaluationDecisivePairs: metrics.decisivePairs,
      evaluationTies: metrics.ties,
    },
    provenance: {
      policyVersion: provenance.policyVersion,
      preferenceSetId: provenance.preferenceSetId,
      createdAt: provenance.createdAt instanceof Date ? provenance.createdAt.toISOString() : provenance.createdAt,
      modelVersion: provenance.modelVersion ?? null,
    },
    metrics: pick(metrics),
    baselines,
    promotion: input.promotion ?? null,
    heads: input.heads ?? [],
  };
  return { json, markdown: renderMarkdown(json) };
}

/** The card with a promotion decision (and its statistics) recorded, re-rendered. */
export function withPromotion(card: ModelCard, promotion: NonNullable<ModelCard['promotion']>): { json: ModelCard; markdown: string } {
  const json = { ...card, promotion };
  return { json, markdown: renderMarkdown(json) };
}

function pick(metrics: BaselineMetrics): BaselineMetrics {
  return { accuracy: metrics.accuracy, auc: metrics.auc, logLoss: metrics.logLoss, ece: metrics.ece };
}

function renderMarkdown(card: ModelCard): string {
  const { model, training, data, provenance, metrics, baselines } = card;
  const o = training.options;
  const architecture = [model.featureDim, ...model.hiddenLayers, 1].join(' → ');
  const ties = model.ties ? `Davidson, ν = ${model.ties.nu.toPrecision(4)}` : 'none (Bradley–Terry)';
  const columns = ['this model', ...Object.keys(baselines).map((key) => BASELINE_LABELS[key] ?? key)];
  const rows: Array<[string, keyof BaselineMetrics, number]> = [
    ['pairwise accuracy', 'accuracy', 4],
    ['AUC', 'auc', 4],
    ['log loss', 'logLoss', 4],
    ['ECE (10 bins)', 'ece', 4],
  ];
  const metricRows = rows.map(([label, key, digits]) => {
    const cells = [metrics, ...Object.values(baselines)].map((m) => format(m[key], digits));
    return `| ${label} | ${cells.join(' | ')} |`;
  });
  const n = (value: number): string => value.toLocaleString('en-US');
  return [
    `# ${card.name}`,
    '',
    '## Model',
    '',
    '| | |',
    '|---|---|',
    `| kind | ${model.kind} |`,
    `| layers | ${architecture} (ReLU between layers) |`,
    `| parameters | ${n(model.parameters)} |`,
    `| input | \`features\` float32 [N, ${model.featureDim}], raw: standardisation is folded into the first layer |`,
    `| ties | ${ties} |`,
    '',
    '## Training',
    '',
    '| | |',
    '|---|---|',
    `| seed | ${training.seed} |`,
    `| optimiser | Adam, learning rate ${o.learningRate} (×${o.learningRateDecay} per epoch) |`,
    `| mini-batch | ${o.batchSize} pairs |`,
    `| L2 | ${o.l2} |`,
    `| epochs | best ${training.bestEpoch} of ${training.epochsRun} run (cap ${o.maxEpochs}, patience ${o.patience}) |`,
    `| stopped by | ${STOP_LABELS[training.stoppedBy ?? ''] ?? (training.stoppedEarly ? 'early stopping' : 'epoch cap')} |`,
    `| wall time | ${training.seconds.toFixed(2)} s on ${training.threads} thread(s) |`,
    '',
    '## Data',
    '',
    '| | |',
    '|---|---|',
    `| policy version | ${provenance.policyVersion} |`,
    `| preference set | ${provenance.preferenceSetId} |`,
    `| items (in training pairs) | ${n(data.items)} (${n(data.trainItems)}) |`,
    `| training pairs (ties) | ${n(data.trainPairs)} (${n(data.trainTies)}) |`,
    `| validation pairs | ${n(data.validationPairs)} |`,
    `| evaluation pairs (ties) | ${n(data.evaluationPairs)} (${n(data.evaluationTies)}) |`,
    '',
    '## Evaluation',
    '',
    `| metric | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    ...metricRows,
    '',
    'Accuracy, AUC and ECE are measured on decisive pairs (ties excluded); log loss on all pairs, ties as ½.',
    ...baselineNotes(baselines),
    '',
    ...headsSection(card.heads ?? []),
    ...promotionSection(card.promotion),
    `Created ${provenance.createdAt}${provenance.modelVersion ? `, model version ${provenance.modelVersion}` : ''}.`,
    '',
  ].join('\n');
}

const STOP_LABELS: Record<string, string> = {
  patience: 'validation loss (no improvement within patience)',
  'max-epochs': 'the epoch cap, while still improving: raise maxEpochs',
  'no-validation': 'the epoch cap (no validation pairs to stop on)',
  converged: 'convergence of the exact solver (Newton; L2 chosen on validation loss)',
};

function baselineNotes(baselines: ModelCard['baselines']): string[] {
  const notes = Object.entries(baselines).filter(([, b]) => b.note).map(([key, b]) => `- ${BASELINE_LABELS[key] ?? key}: ${b.note}`);
  return notes.length ? ['', 'Baselines, all on the same evaluation pairs:', '', ...notes] : [];
}

function headsSection(heads: HeadCardEntry[]): string[] {
  if (heads.length === 0) return [];
  const rows = heads.map((h) => h.trained && h.metrics
    ? `| ${h.name} | ${h.pairs.train} / ${h.pairs.validation} / ${h.pairs.test} | ${format(h.metrics.accuracy, 4)} | ${format(h.metrics.auc, 4)} | best ${h.bestEpoch} of ${h.epochsRun} (${h.stoppedBy}) |`
    : `| ${h.name} | ${h.pairs.train} / ${h.pairs.validation} / ${h.pairs.test} | — | — | untrained: ${h.reason} |`);
  return [
    '## Dimension heads',
    '',
    'Output `rewards` float32 [N, K], one column per head in this order; each head trained only on pairs labelled for its dimension and measured on its own test pairs (an untrained head scores 0).',
    '',
    '| head | pairs train / validation / test | accuracy | AUC | epochs |',
    '|---|---:|---:|---:|---|',
    ...rows,
    '',
  ];
}

function promotionSection(promotion: ModelCard['promotion']): string[] {
  if (!promotion) return [];
  const { promoted, reason, ...statistics } = promotion;
  const rows = Object.entries(statistics)
    .filter(([, v]) => v === null || ['number', 'string', 'boolean'].includes(typeof v))
    .map(([k, v]) => `| ${k} | ${typeof v === "number" && !Number.isInteger(v) ? format(v, 4) : String(v)} |`);
  const heads = Array.isArray(statistics.heads) ? (statistics.heads as HeadGateStatistics[]) : [];
  const headRows = heads.length === 0 ? [] : [
    '### Per dimension (a head significantly worse than production\'s blocks the promotion)',
    '',
    '| head | frozen pairs | candidate | production | Δ points | upper bound | gated | significantly worse |',
    '|---|---:|---:|---:|---:|---:|---|---|',
    ...heads.map((h) => `| ${h.name} | ${h.decisivePairs} | ${format(h.candidateAccuracy, 4)} | ${format(h.productionAccuracy, 4)} | ${format(100 * h.difference, 2)} | ${format(100 * h.upperBound, 2)} | ${h.gated ? 'yes' : 'no'} | ${h.worse ? '**yes**' : 'no'} |`),
    '',
  ];
  return ['## Promotion', '', `**${promoted ? 'promoted' : 'not promoted'}**: ${reason}`, '', '| | |', '|---|---|', ...rows, '', ...headRows];
}

function format(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}
