import { csvField, dimensionsJson, exportNumber } from './canonical-encoding';
import type { PreferencePairRow, VideoOutcome } from './preference.types';
import { PreferencesError } from './preferences.errors';
import { type ExportStats, type RowSource, driveRows, encodeLines, newExportStats } from './text-export.encoder';

/** Where a row points at a video: a template with `{videoId}` (a path the trainer can open), else its URI or id. */
export interface PathOptions {
  /** e.g. `videos/{videoId}.mp4`: every `{videoId}` is replaced by the video id. */
  pathTemplate?: string;
}

export const MAX_PATH_TEMPLATE_LENGTH = 1024;
const VIDEO_ID = /\{videoId\}/g;

/** Checks a path template (PreferencesError INVALID_OPTIONS naming `pathTemplate`) and returns the path function. */
export function videoPathOf(options: PathOptions): (uri: string | null, videoId: string) => string {
  const template = options.pathTemplate;
  if (template === undefined) return (uri, videoId) => uri ?? videoId;
  if (typeof template !== 'string' || !template.includes('{videoId}') || template.length > MAX_PATH_TEMPLATE_LENGTH || /[\r\n\u0000]/.test(template)) {
    throw new PreferencesError('INVALID_OPTIONS', `pathTemplate must contain {videoId}, be at most ${MAX_PATH_TEMPLATE_LENGTH} characters and hold no CR, LF or NUL`, { details: { option: 'pathTemplate' } });
  }
  return (_uri, videoId) => template.replace(VIDEO_ID, videoId);
}

/** VideoAlign's dimension columns and the rating dimensions they come from (a project's default dimensions). */
export const VIDEOALIGN_DIMENSIONS: readonly (readonly [column: string, dimension: string])[] = [
  ['VQ', 'visual_quality'],
  ['MQ', 'motion_quality'],
  ['TA', 'text_alignment'],
];

export interface VideoAlignOptions extends PathOptions {
  /**
   * 'balanced' (default): the chosen video is path_A on about half the rows, by the top bit of FNV-1a over
   * `${seed}\0${chosen id}\0${rejected id}` (deterministic for a seed), so a trainer cannot learn "A wins".
   * 'chosen-first': path_A is always the chosen video.
   */
  abOrder?: 'balanced' | 'chosen-first';
  /** Seed of the balanced order (default 1). */
  seed?: number;
  /** Add an `overall` column (A/B/same from the pair itself) for `--eval_dim overall`. Default: no such column. */
  overall?: boolean;
  /** |chosen − rejected| mean rating ≤ this is `same` for a dimension. Default 0 (only equal ratings). */
  dimensionTieBand?: number;
}

/** The header of a videoalign-csv export with these options. */
export function videoAlignHeader(options: Pick<VideoAlignOptions, 'overall'> = {}): string {
  return `path_A,path_B,prompt,VQ,MQ,TA${options.overall ? ',overall' : ''},fps_A,num_frames_A,fps_B,num_frames_B`;
}

/**
 * videoalign-csv, RFC 4180 (CRLF line ends, fields quoted when they hold a comma, quote, CR or LF), header
 * `path_A,path_B,prompt,VQ,MQ,TA[,overall],fps_A,num_frames_A,fps_B,num_frames_B`, the columns VideoAlign's loader
 * reads (train_reward.py create_dataset → data.py convert_GSB_csv_to_reward_data). VQ/MQ/TA are `A`, `B` or `same`
 * from the pair's per-dimension rating differences, empty when the two videos do not both have ratings of that
 * dimension (VideoAlign masks an empty label as invalid); a pair with no label in any label column is left out and
 * counted (`skippedUnlabelled`), never written as a row that trains on nothing. fps and frame counts are the
 * generations' declared values, empty when not declared.
 */
export function encodeVideoAlignCsv(
  rows: RowSource<PreferencePairRow>,
  options: VideoAlignOptions = {},
  stats = newExportStats(),
): AsyncGenerator<Buffer> {
  const balanced = (options.abOrder ?? 'balanced') === 'balanced';
  const seed = options.seed ?? 1;
  const band = options.dimensionTieBand ?? 0;
  const overall = options.overall === true;
  const pathOf = videoPathOf(options);
  if (!(band >= 0) || !Number.isFinite(band)) {
    throw new PreferencesError('INVALID_OPTIONS', 'dimensionTieBand: must be a finite number ≥ 0', { details: { option: 'dimensionTieBand' } });
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new PreferencesError('INVALID_OPTIONS', 'seed: must be an integer ≥ 0', { details: { option: 'seed' } });
  }
  return encodeLines(rows, (r) => {
    const swap = balanced && fnv1a(`${seed}\u0000${r.chosenId}\u0000${r.rejectedId}`) >>> 31 === 1;
    let labels = '';
    let labelled = false;
    for (const [, dimension] of VIDEOALIGN_DIMENSIONS) {
      const d = r.dimensions[dimension];
      labels += ',';
      if (d === undefined) continue;
      const diff = exportNumber(d, `dimensions.${dimension}`);
      labels += Math.abs(diff) <= band ? 'same' : (diff > 0) !== swap ? 'A' : 'B';
      labelled = true;
    }
    if (overall) {
      labels += r.tie ? ',same' : swap ? ',B' : ',A';
      labelled = true;
    }
    if (!labelled) {
      stats.skippedUnlabelled++;
      return null;
    }
    const chosen = [csvField(pathOf(r.chosenUri, r.chosenId)), media(r.chosenFps, 'chosenFps'), media(r.chosenFrames, 'chosenFrames')];
    const rejected = [csvField(pathOf(r.rejectedUri, r.rejectedId)), media(r.rejectedFps, 'rejectedFps'), media(r.rejectedFrames, 'rejectedFrames')];
    const [a, b] = swap ? [rejected, chosen] : [chosen, rejected];
    return `${a[0]},${b[0]},${csvField(r.prompt)}${labels},${a[1]},${a[2]},${b[1]},${b[2]}\r\n`;
  }, stats, `${videoAlignHeader(options)}\r\n`);
}

function media(value: number | null | undefined, field: string): string {
  return value === null || value === undefined ? '' : String(exportNumber(value, field));
}

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const json = JSON.stringify;

/**
 * kto-jsonl: one line per observed video with a decisive outcome, `{"prompt","completion","label",…}` — TRL's
 * unpaired preference format (KTOTrainer, BCOTrainer), the per-sample like/dislike data Diffusion-KTO trains on.
 * `completion` is the video's path (pathTemplate, else URI or id), `label` true when more of its users liked,
 * exported or chose it than discarded, regenerated or disliked it. Neutral videos (label null) are left out and
 * counted in `skippedTies`. Extra keys: video_id, request_id, split, reward, positive, negative, n.
 */
export function encodeKtoJsonl(rows: RowSource<VideoOutcome>, options: PathOptions = {}, stats = newExportStats()): AsyncGenerator<Buffer> {
  const pathOf = videoPathOf(options);
  return encodeLines(rows, (o) => {
    if (o.label === null) {
      stats.skippedTies++;
      return null;
    }
    return `{"prompt":${json(o.prompt)},"completion":${json(pathOf(o.uri, o.videoId))},"label":${o.label ? 'true' : 'false'},"video_id":${json(o.videoId)},"request_id":${json(o.requestId)},"split":${json(o.split)},"reward":${exportNumber(o.reward, 'reward')},"positive":${o.positive},"negative":${o.negative},"n":${o.n}}\n`;
  }, stats);
}

export type GroupBy = 'request' | 'prompt';

export interface GroupsOptions extends PathOptions {
  /** 'request' (default): the candidates of one request. 'prompt': of one normalised prompt, across requests. */
  groupBy?: GroupBy;
  /** Groups with fewer candidates are left out and counted (`skippedSmallGroups`). Default 2. */
  minGroupSize?: number;
}

/**
 * groups-jsonl: one line per prompt group — `{"group_id","prompt","split","candidates":[{"video_id","path","reward",
 * "rewards","n","label"}…]}` — for GRPO-style and online-DPO trainers that normalise rewards within a group of
 * rollouts of one prompt. `reward` is the candidate's shrunk mean satisfaction (−1..1, the unit of pair margins),
 * `rewards` its per-dimension rewards ((mean rating − 3) / 2, keys sorted). Rows must come ordered by the group's
 * key (request id, or normalised prompt); candidates are written in arrival order.
 */
export async function* encodeGroupsJsonl(rows: RowSource<VideoOutcome>, options: GroupsOptions = {}, stats = newExportStats()): AsyncGenerator<Buffer> {
  const pathOf = videoPathOf(options);
  const groupBy = options.groupBy ?? 'request';
  if (groupBy !== 'request' && groupBy !== 'prompt') {
    throw new PreferencesError('INVALID_OPTIONS', "groupBy must be 'request' or 'prompt'", { details: { option: 'groupBy' } });
  }
  const minSize = options.minGroupSize ?? 2;
  if (!Number.isSafeInteger(minSize) || minSize < 1) {
    throw new PreferencesError('INVALID_OPTIONS', 'minGroupSize must be an integer ≥ 1', { details: { option: 'minGroupSize' } });
  }
  const keyOf = groupBy === 'request' ? (o: VideoOutcome) => o.requestId : (o: VideoOutcome) => o.promptNorm;
  let group: VideoOutcome[] = [];
  let key: string | null = null;
  let chunk = '';
  const flush = (): void => {
    if (group.length === 0) return;
    if (group.length < minSize) {
      stats.skippedSmallGroups++;
      group = [];
      return;
    }
    let candidates = '';
    for (let i = 0; i < group.length; i++) {
      const o = group[i];
      if (i > 0) candidates += ',';
      candidates += `{"video_id":${json(o.videoId)},"path":${json(pathOf(o.uri, o.videoId))},"reward":${exportNumber(o.reward, 'reward')},"rewards":${dimensionsJson(o.rewards)},"n":${o.n},"label":${o.label === null ? 'null' : o.label}}`;
    }
    const first = group[0];
    chunk += `{"group_id":${json(`${groupBy}:${key}`)},"prompt":${json(first.prompt)},"split":${json(first.split)},"candidates":[${candidates}]}\n`;
    stats.written++;
    group = [];
  };
  const take = (): Buffer | null => {
    if (chunk.length < 64 * 1024) return null;
    const buf = Buffer.from(chunk, 'utf8');
    stats.bytes += buf.length;
    chunk = '';
    return buf;
  };
  yield* driveRows(rows, (o) => {
    stats.rows++;
    const k = keyOf(o);
    if (k !== key) {
      flush();
      key = k;
    }
    group.push(o);
    return take();
  });
  flush();
  if (chunk.length > 0) {
    const buf = Buffer.from(chunk, 'utf8');
    stats.bytes += buf.length;
    yield buf;
  }
}
