/**
 * What the trainers our exports are for do with a file, modelled from their own loader code (not from our encoders),
 * so a spec or an integration test can ask "would this trainer load this export, and what would it train on?".
 * Each function cites the file and function whose rules it enforces; a rule the trainer enforces by crashing is a
 * thrown Error here, a rule it enforces by masking (VideoAlign's label 22) is a count in the result.
 * Test support only (`@flywheel/preferences/testing`).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** RFC 4180 records, as Python's csv module / pandas.read_csv (used by `datasets.load_dataset('csv')`) read them. */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === ',') { record.push(field); field = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i += 2; continue; }
    if (ch === '\n') { record.push(field); records.push(record); record = []; field = ''; i++; continue; }
    field += ch; i++;
  }
  if (field !== '' || record.length > 0) { record.push(field); records.push(record); }
  return records;
}

export interface VideoAlignLoadOptions {
  /** `--eval_dim`: the label columns to read, e.g. ['VQ', 'MQ', 'TA'] (train.sh) or ['overall']. */
  evalDims: string[];
  /** `--data_dir`: every path_A/path_B is opened as `file://{data_dir}/{path}`. Omit to skip the file check. */
  dataDir?: string;
  /** `--num_frames`: when set, nframes = min(num_frames, num_frames_A) per row (so the column must be a number). */
  numFrames?: number;
  /** `--use_tied_data` (default True in DataConfig). */
  useTiedData?: boolean;
}

export interface VideoAlignRow {
  pathA: string;
  pathB: string;
  prompt: string;
  /** Per eval dim: 1 (A chosen), -1 (B chosen), 0 (tie), 22 (invalid: masked out of the loss). */
  chosenLabel: number[];
}

export interface VideoAlignLoad {
  rows: VideoAlignRow[];
  /** (row, dim) labels the loss uses: chosen_label != 22 (trainer.py `_convert_A_B_to_chosen_rejected`, valid_mask). */
  validLabels: number;
  /** Rows with no valid label at all: they train on nothing. */
  rowsWithoutValidLabel: number;
  /** Rows whose chosen (label 1 / -1) video is A, over all decided labels: the position prior a model could learn. */
  aChosenShare: number;
}

/**
 * KwaiVGI/VideoAlign: train_reward.py `create_dataset` (load_dataset('csv') → optional use_tied_data filter →
 * map convert_GSB_csv_to_reward_data) and data.py `convert_GSB_csv_to_reward_data`:
 * - columns are looked up by header name: `example['path_A']`, `example['path_B']`, `example['prompt']`, each
 *   `example[eval_dim]` (a missing column is a KeyError: `--eval_dim overall` needs an `overall` column) and, with
 *   `--num_frames`, `example['num_frames_A']` / `example['num_frames_B']` inside `min(num_frames, …)`;
 * - a label is exactly 'A' → 1, 'B' → -1, 'same' → 0; anything else, empty (None) included, → 22 (invalid);
 * - the video is `file://{data_dir}/{path}`: a path relative to data_dir that must exist there (an s3:// URI does not);
 * - `use_tied_data=False` drops rows where every eval dim is 'same'.
 */
export function loadVideoAlignCsv(text: string, options: VideoAlignLoadOptions): VideoAlignLoad {
  const records = parseCsvRecords(text);
  if (records.length === 0) throw new Error('load_dataset(csv): empty file');
  const header = records[0];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`KeyError: '${name}'`);
    return i;
  };
  const [pathA, pathB, prompt] = [col('path_A'), col('path_B'), col('prompt')];
  const dims = options.evalDims.map(col);
  const frames = options.numFrames === undefined ? null : [col('num_frames_A'), col('num_frames_B')];
  const rows: VideoAlignRow[] = [];
  let validLabels = 0;
  let rowsWithoutValidLabel = 0;
  let decided = 0;
  let aChosen = 0;
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    // pandas.read_csv refuses a row with more fields than the header ("Error tokenizing data").
    if (rec.length > header.length) throw new Error(`Error tokenizing data: line ${r + 1} has ${rec.length} fields, expected ${header.length}`);
    const value = (i: number): string | null => (rec[i] === undefined || rec[i] === '' ? null : rec[i]);
    if (options.useTiedData === false && dims.every((i) => value(i) === 'same')) continue;
    if (frames) {
      for (const i of frames) {
        const v = value(i);
        // min(num_frames, None) raises TypeError; a non-numeric string compares as TypeError too.
        if (v === null || !Number.isFinite(Number(v))) throw new Error(`TypeError: min(${options.numFrames}, ${JSON.stringify(v)}) in row ${r}`);
      }
    }
    const chosenLabel = dims.map((i) => {
      const v = value(i);
      return v === 'A' ? 1 : v === 'B' ? -1 : v === 'same' ? 0 : 22;
    });
    const valid = chosenLabel.filter((l) => l !== 22).length;
    validLabels += valid;
    if (valid === 0) rowsWithoutValidLabel++;
    for (const l of chosenLabel) {
      if (l === 1 || l === -1) {
        decided++;
        if (l === 1) aChosen++;
      }
    }
    const row = { pathA: value(pathA) ?? '', pathB: value(pathB) ?? '', prompt: value(prompt) ?? '', chosenLabel };
    if (options.dataDir !== undefined) {
      for (const p of [row.pathA, row.pathB]) {
        const file = `${options.dataDir}/${p}`; // f"file://{data_dir}/{example['path_A']}"
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || !existsSync(path.normalize(file))) throw new Error(`cannot open video file://${file}`);
      }
    }
    rows.push(row);
  }
  return { rows, validLabels, rowsWithoutValidLabel, aChosenShare: decided ? aChosen / decided : NaN };
}

/** JSON Lines as `datasets.load_dataset('json')` reads them: one object per line, one Arrow type per key. */
export function loadJsonLines(text: string): Record<string, unknown>[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const rows = lines.map((line, i) => {
    const v = JSON.parse(line);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`line ${i + 1} is not a JSON object`);
    return v as Record<string, unknown>;
  });
  // Arrow infers one type per column: a key that is a number on one line and a string on another cannot be cast.
  const types = new Map<string, string>();
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (value === null) continue;
      const t = Array.isArray(value) ? 'list' : typeof value;
      const seen = types.get(key);
      if (seen && seen !== t) throw new Error(`ArrowInvalid: column ${key} has ${seen} and ${t} values`);
      types.set(key, t);
    }
  }
  return rows;
}

/**
 * huggingface/trl, standard (non-conversational) preference data as DPOTrainer and RewardTrainer take it:
 * - trl/data_utils.py `is_conversational` / the preference type: `prompt`, `chosen`, `rejected`;
 * - reward_trainer.py `_prepare_dataset` → `add_eos`: `example["chosen"].endswith(eos_token)` and the
 *   tokenize_fn's `example["prompt"] + example["chosen"]`: all three must be strings on every row;
 * - reward_trainer.py `DataCollatorForPreference.__call__`: `if "margin" in examples[0]` then
 *   `torch.tensor([example["margin"] for example in examples], dtype=torch.float)`: once the column exists every
 *   row needs a number; `compute_loss` uses `-logsigmoid(rewards_chosen - rewards_rejected - margin)`, so the
 *   margin is in the reward's own units and should be ≥ 0 and modest.
 * Returns the rows and their margins (null when the column is absent).
 */
export function loadTrlPreference(text: string): { rows: Record<string, unknown>[]; margins: number[] | null } {
  const rows = loadJsonLines(text);
  rows.forEach((row, i) => {
    for (const key of ['prompt', 'chosen', 'rejected']) {
      if (typeof row[key] !== 'string') throw new Error(`row ${i}: ${key} must be a string (TypeError in add_eos / prompt + chosen)`);
    }
  });
  if (rows.length === 0 || !('margin' in rows[0])) return { rows, margins: null };
  const margins = rows.map((row, i) => {
    const m = row.margin;
    if (typeof m !== 'number' || !Number.isFinite(m)) throw new Error(`row ${i}: margin ${JSON.stringify(m)} is not a float (torch.tensor)`);
    return m;
  });
  return { rows, margins };
}

/**
 * huggingface/trl, unpaired preference data as KTOTrainer (and BCOTrainer) take it: trl/data_utils.py lists the
 * unpaired type as {"prompt", "completion", "label"}; kto_trainer.py appends EOS with
 * `example["completion"].endswith(eos_token)`, tokenises `example["prompt"] + example["completion"]`, and weighs
 * desirable vs undesirable with `sum(dataset["label"])`: prompt and completion strings, label a bool on every row.
 * (Diffusion-KTO's Pick-a-Pic annotation is the same idea per image: a path, its caption and a win/lose label.)
 */
export function loadTrlKto(text: string): { rows: Record<string, unknown>[]; desirable: number; undesirable: number } {
  const rows = loadJsonLines(text);
  let desirable = 0;
  rows.forEach((row, i) => {
    for (const key of ['prompt', 'completion']) {
      if (typeof row[key] !== 'string') throw new Error(`row ${i}: ${key} must be a string`);
    }
    if (typeof row.label !== 'boolean') throw new Error(`row ${i}: label must be a bool, got ${JSON.stringify(row.label)}`);
    if (row.label) desirable++;
  });
  return { rows, desirable, undesirable: rows.length - desirable };
}

/**
 * Groups of rollouts of one prompt with their rewards, as group-relative trainers use them: TRL grpo_trainer.py
 * `_generate_and_score_completions` views rewards as (groups, num_generations), takes
 * `mean_grouped_rewards = nanmean(rewards.view(-1, G))`, `std = nanstd(…)` and `advantages = rewards − mean`
 * (scaled by std); Flow-GRPO's per-prompt stat tracker does the same per prompt. So: every group has one prompt,
 * at least two candidates with distinct ids, a finite reward each, and group ids are unique across the file.
 * Returns the group-normalised advantages ((r − mean) / std, 0 when std is 0) per group.
 */
export function loadRewardGroups(text: string): { groups: Record<string, any>[]; advantages: number[][] } {
  const groups = loadJsonLines(text) as Record<string, any>[];
  const ids = new Set<string>();
  const advantages = groups.map((g, i) => {
    if (typeof g.group_id !== 'string' || ids.has(g.group_id)) throw new Error(`group ${i}: group_id missing or repeated`);
    ids.add(g.group_id);
    if (typeof g.prompt !== 'string') throw new Error(`group ${i}: prompt must be a string`);
    if (!Array.isArray(g.candidates) || g.candidates.length < 2) throw new Error(`group ${i}: fewer than 2 candidates, no relative reward`);
    const seen = new Set<string>();
    const rewards = g.candidates.map((c: Record<string, unknown>, j: number) => {
      if (typeof c.reward !== 'number' || !Number.isFinite(c.reward)) throw new Error(`group ${i} candidate ${j}: reward is not a finite number`);
      if (typeof c.video_id !== 'string' || seen.has(c.video_id)) throw new Error(`group ${i} candidate ${j}: video_id missing or repeated`);
      seen.add(c.video_id);
      return c.reward as number;
    });
    const mean = rewards.reduce((a: number, b: number) => a + b, 0) / rewards.length;
    const std = Math.sqrt(rewards.reduce((a: number, b: number) => a + (b - mean) ** 2, 0) / (rewards.length - 1));
    return rewards.map((r: number) => (std > 0 ? (r - mean) / std : 0));
  });
  return { groups, advantages };
}
