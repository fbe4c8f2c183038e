/**
 * Each export format against the loader of the trainer it is for (trainer-loaders.testing.ts models those loaders
 * from their code: VideoAlign's train_reward.py / data.py, TRL's reward_trainer.py / kto_trainer.py /
 * grpo_trainer.py). The questions are the trainer's: does it load, what does it train on, what does it learn by
 * accident (A/B position), what unit is the margin in.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildPairs, rewardModelPairs } from './pair-builder';
import { toPairRows } from './pair-rows';
import { videoOutcomes } from './outcomes';
import type { PreferencePairRow, VideoEvidence, VideoOutcome } from './preference.types';
import { encodeDpoJsonl } from './row-encoders.testing';
import { encodeGroupsJsonl, encodeKtoJsonl, encodeVideoAlignCsv } from './trainer-export.encoder';
import { loadRewardGroups, loadTrlKto, loadTrlPreference, loadVideoAlignCsv } from './trainer-loaders.testing';
import { newExportStats } from './text-export.encoder';

async function text(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}

/** 60 requests × 4 candidates; every candidate rated on the three default dimensions, some with fps/frames. */
function world(): VideoEvidence[] {
  const videos: VideoEvidence[] = [];
  for (let r = 0; r < 60; r++) {
    for (let c = 0; c < 4; c++) {
      const q = ((r * 7 + c * 13) % 17) / 17;
      videos.push({
        videoId: `v${r}-${c}`, requestId: `req${r}`, promptNorm: `prompt ${r % 20}`, prompt: `Prompt ${r % 20}, "quoted"`,
        modelVersion: '1.0', uri: `s3://bucket/v${r}-${c}.mp4`, n: 3, satMean: 2 * q - 1, satShrunk: 2 * q - 1,
        dimensionScores: { visual_quality: 1 + 4 * q, motion_quality: 1 + ((c + r) % 5), text_alignment: 3 },
        positive: q > 0.6 ? 3 : 0, negative: q < 0.3 ? 2 : 0, fps: c % 2 ? 24 : 30, numFrames: c % 2 ? 121 : 150,
        rewardScore: 6 * q - 3,
      });
    }
  }
  return videos;
}

const OPTIONS = { scopes: ['request' as const, 'prompt' as const], minMargin: 0.05, includeTies: true, seed: 1 };

describe('videoalign-csv in VideoAlign (train_reward.py create_dataset, data.py convert_GSB_csv_to_reward_data)', () => {
  const videos = world();
  const rows = [...toPairRows(buildPairs({ videos }, OPTIONS), videos)];
  const dataDir = mkdtempSync(path.join(tmpdir(), 'videoalign-'));
  mkdirSync(path.join(dataDir, 'videos'));
  for (const v of videos) writeFileSync(path.join(dataDir, 'videos', `${v.videoId}.mp4`), '');

  it('loads with --eval_dim VQ MQ TA and --num_frames, every row with a valid label, files opened under --data_dir', async () => {
    const csv = await text(encodeVideoAlignCsv(rows, { pathTemplate: 'videos/{videoId}.mp4' }));
    const load = loadVideoAlignCsv(csv, { evalDims: ['VQ', 'MQ', 'TA'], dataDir, numFrames: 64 });
    expect(load.rows.length).toBe(rows.length);
    expect(load.rowsWithoutValidLabel).toBe(0);
    expect(load.validLabels).toBe(rows.length * 3);
  });

  it('is balanced: the chosen video is A about half the time (no position prior to learn)', async () => {
    const load = loadVideoAlignCsv(await text(encodeVideoAlignCsv(rows)), { evalDims: ['VQ'] });
    // Deterministic for the seed; with n decided labels a fair coin stays within 4σ = 2/√n of one half.
    const n = load.rows.filter((r) => r.chosenLabel[0] !== 0 && r.chosenLabel[0] !== 22).length;
    expect(n).toBeGreaterThan(100);
    expect(Math.abs(load.aChosenShare - 0.5)).toBeLessThan(2 / Math.sqrt(n));
    // The position prior the old A-is-chosen order taught: every decided overall label was A.
    const firstOnly = loadVideoAlignCsv(await text(encodeVideoAlignCsv(rows, { abOrder: 'chosen-first', overall: true })), { evalDims: ['overall'] });
    expect(firstOnly.aChosenShare).toBe(1);
  });

  it('--eval_dim overall needs the overall column: a KeyError without it, loaded with it', async () => {
    expect(() => loadVideoAlignCsv(`${'path_A,path_B,prompt,VQ,MQ,TA,fps_A,num_frames_A,fps_B,num_frames_B'}\r\n`, { evalDims: ['overall'] })).toThrow("KeyError: 'overall'");
    const csv = await text(encodeVideoAlignCsv(rows, { overall: true }));
    const load = loadVideoAlignCsv(csv, { evalDims: ['overall'] });
    expect(load.rowsWithoutValidLabel).toBe(0);
    expect(load.rows.some((r) => r.chosenLabel[0] === 0)).toBe(true); // ties are 'same' (use_tied_data)
  });

  it('never writes rows that train on nothing: pairs without dimension ratings are left out and counted', async () => {
    const unrated = videos.map((v) => ({ ...v, dimensionScores: {} }));
    const unratedRows = [...toPairRows(buildPairs({ videos: unrated }, OPTIONS), unrated)];
    const stats = newExportStats();
    const load = loadVideoAlignCsv(await text(encodeVideoAlignCsv(unratedRows, {}, stats)), { evalDims: ['VQ', 'MQ', 'TA'] });
    expect(load.rows).toHaveLength(0);
    expect(stats.skippedUnlabelled).toBe(unratedRows.length);
  });

  it('URIs (no template) are not files VideoAlign can open; undeclared frame counts only load without --num_frames', async () => {
    const csv = await text(encodeVideoAlignCsv(rows));
    expect(() => loadVideoAlignCsv(csv, { evalDims: ['VQ'], dataDir })).toThrow(/cannot open video/);
    const noFrames = await text(encodeVideoAlignCsv(rows.map((r): PreferencePairRow => ({ ...r, chosenFrames: null, rejectedFrames: null }))));
    expect(() => loadVideoAlignCsv(noFrames, { evalDims: ['VQ'], numFrames: 64 })).toThrow(/TypeError/);
    expect(loadVideoAlignCsv(noFrames, { evalDims: ['VQ'] }).rows).toHaveLength(rows.length);
  });
});

describe('dpo-jsonl in TRL (reward_trainer.py DataCollatorForPreference / compute_loss, DPOTrainer)', () => {
  const videos = world();

  it('loads: prompt/chosen/rejected strings and a float margin on every row', async () => {
    const rows = [...toPairRows(buildPairs({ videos }, OPTIONS), videos)];
    const { rows: loaded, margins } = loadTrlPreference(await text(encodeDpoJsonl(rows)));
    expect(loaded.length).toBe(rows.filter((r) => !r.tie).length);
    expect(margins!.every((m) => m > 0)).toBe(true);
  });

  it('carries one margin unit for every source: model-labelled pairs are no larger than observed ones can be', async () => {
    // Observed margins: satisfaction differences, 0..2. Model-labelled: tanh(Δlogit / 2) < 1, where the raw logit
    // gap reached 6 here (RewardTrainer's loss −log σ(r_c − r_r − margin) would have demanded a 6-logit gap).
    const thin = videos.map((v) => ({ ...v, n: 0 }));
    const model = [...toPairRows(rewardModelPairs(thin, { minMargin: 0.05 }), thin)];
    const maxLogitGap = Math.max(...thin.map((v) => v.rewardScore!)) - Math.min(...thin.map((v) => v.rewardScore!));
    expect(maxLogitGap).toBeGreaterThan(5);
    const { margins } = loadTrlPreference(await text(encodeDpoJsonl(model)));
    expect(Math.max(...margins!)).toBeLessThan(1);
    expect(Math.min(...margins!)).toBeGreaterThanOrEqual(0.05);
  });
});

describe('kto-jsonl in TRL (KTOTrainer unpaired prompt/completion/label) and Diffusion-KTO', () => {
  const videos = world();
  const outcomes = videoOutcomes(videos, { minEvidence: 1, seed: 1, splitRatios: { train: 0.8, validation: 0.1, test: 0.1 } });

  it('loads with a bool label per video, liked/exported/chosen desirable, discarded/regenerated/disliked not', async () => {
    const stats = newExportStats();
    const { rows, desirable, undesirable } = loadTrlKto(await text(encodeKtoJsonl(outcomes, { pathTemplate: 'videos/{videoId}.mp4' }, stats)));
    expect(desirable).toBe(outcomes.filter((o) => o.positive > o.negative).length);
    expect(undesirable).toBe(outcomes.filter((o) => o.negative > o.positive).length);
    expect(desirable).toBeGreaterThan(0);
    expect(undesirable).toBeGreaterThan(0);
    // Neutral videos are not guessed into a label: counted as ties.
    expect(stats.skippedTies).toBe(outcomes.length - rows.length);
    expect(stats.skippedTies).toBeGreaterThan(0);
    expect(rows[0].completion).toMatch(/^videos\/v\d+-\d\.mp4$/);
  });
});

describe('groups-jsonl in group-relative trainers (TRL grpo_trainer.py advantages, Flow-GRPO per-prompt stats)', () => {
  const videos = world();
  const outcomes = videoOutcomes(videos, { minEvidence: 1, seed: 1, splitRatios: { train: 0.8, validation: 0.1, test: 0.1 } });

  it('one line per request group with per-candidate overall and per-dimension rewards', async () => {
    const { groups, advantages } = loadRewardGroups(await text(encodeGroupsJsonl(outcomes)));
    expect(groups).toHaveLength(60);
    expect(groups[0].candidates).toHaveLength(4);
    expect(Object.keys(groups[0].candidates[0].rewards)).toEqual(['motion_quality', 'text_alignment', 'visual_quality']);
    for (const a of advantages) expect(Math.abs(a.reduce((x, y) => x + y, 0))).toBeLessThan(1e-9);
  });

  it('groups by prompt across requests, and counts groups too small to compare', async () => {
    const byPrompt = (await text(encodeGroupsJsonl([...outcomes].sort((a, b) => (a.promptNorm < b.promptNorm ? -1 : a.promptNorm > b.promptNorm ? 1 : 0)), { groupBy: 'prompt' })));
    const { groups } = loadRewardGroups(byPrompt);
    expect(groups).toHaveLength(20);
    expect(groups.every((g) => g.candidates.length === 12)).toBe(true);
    const lonely: VideoOutcome[] = [outcomes[0], outcomes[4]]; // two requests, one candidate each
    const stats = newExportStats();
    expect(await text(encodeGroupsJsonl(lonely, {}, stats))).toBe('');
    expect(stats.skippedSmallGroups).toBe(2);
  });
});
