import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { PAIR_COPY_FIELDS, PAIR_MEDIA_FIELDS, copyRowBatches, copyTextRows, pairFromCopyFields } from '@flywheel/preferences';
import type { PreferencePairRow, RankedRequest, VideoOutcome } from '@flywheel/preferences';
import { copyConnection } from './copy-pool';
import { LeasedQueue, claimSql, heartbeatSql } from './leased-queue';
import { rowsOf, uuidLiteral } from './sql';

/** Rows are stored exactly as the preferences lib defines them, and read back in its COPY row layout. */
export type StoredPairRow = PreferencePairRow;
export type StoredRanking = RankedRequest;

export interface PreferenceSetRow {
  id: string;
  projectId: string;
  /** queued → building (a trainer holds it) → ready, or failed with `error`. */
  status: 'queued' | 'building' | 'ready' | 'failed';
  filters: Record<string, unknown>;
  manifest: Record<string, unknown> | null;
  contentSha256: string | null;
  error: string | null;
  createdAt: Date;
  /** Builds started so far (a trainer that died mid-build leaves one behind). */
  attempts: number;
  /** When its first export started: from then on it has left the service (a deletion cannot recall it). */
  exportedAt: Date | null;
  /** User deletions (their job ids) whose data this set holds: it had left the service when they ran. */
  containingDeletions: string[];
}

const BUILD_QUEUE: LeasedQueue = { table: 'preference_sets', running: 'building' };
const SET_COLUMNS = `id, project_id AS "projectId", status, filters, manifest, content_sha256 AS "contentSha256", error,
  created_at AS "createdAt", attempts, exported_at AS "exportedAt", containing_deletions AS "containingDeletions"`;

/** A set claimed for building: `attempts` numbers this claim, and every write of the build is checked against it. */
export type ClaimedSet = PreferenceSetRow;
const PAGE = 20_000;
/** Rows a page of pairPages: one batch of the COPY stream, parsed at once. */
const PAGE_ROWS = 2048;

const PAIR_COLUMNS = PAIR_COPY_FIELDS.join(', ');
const PAIR_ROW_COLUMNS = [...PAIR_COPY_FIELDS, ...PAIR_MEDIA_FIELDS].join(', ');

export type PairSplitFilter = 'train' | 'validation' | 'test' | undefined;

function pairsCopySql(setId: string, opts: { afterSeq?: number; split?: PairSplitFilter; columns?: string } = {}): string {
  const from = opts.afterSeq !== undefined && opts.afterSeq >= 0 ? ` AND seq > ${Math.floor(opts.afterSeq)}` : '';
  const split = opts.split ? ` AND split = '${splitLiteral(opts.split)}'` : '';
  return `COPY (SELECT ${opts.columns ?? PAIR_COLUMNS} FROM preference_pairs WHERE set_id = '${uuidLiteral(setId)}'${from}${split} ORDER BY seq) TO STDOUT`;
}

const OUTCOME_COLUMNS = `video_id, request_id, prompt, prompt_norm, uri, model_version, split, n, reward, rewards, positive,
  negative, label, fps, num_frames`;

function outcomeFromCopyFields(f: (string | null)[]): VideoOutcome {
  return {
    videoId: f[0]!, requestId: f[1]!, prompt: f[2]!, promptNorm: f[3]!, uri: f[4], modelVersion: f[5]!,
    split: f[6] as VideoOutcome['split'], n: Number(f[7]), reward: Math.fround(parseFloat(f[8]!)),
    rewards: f[9] === '{}' ? {} : JSON.parse(f[9]!), positive: Number(f[10]), negative: Number(f[11]),
    label: f[12] === null ? null : f[12] === 't', fps: f[13] === null ? null : Math.fround(parseFloat(f[13])),
    numFrames: f[14] === null ? null : Number(f[14]),
  };
}

function splitLiteral(split: string): string {
  if (split !== 'train' && split !== 'validation' && split !== 'test') throw new Error(`not a split: ${split}`);
  return split;
}

/** Preference-set snapshots: written once in pages, read back in sequence order, never changed after `ready`. */
export class PreferenceSetsRepository {
  constructor(private readonly db: DataSource) {}

  async create(projectId: string, filters: unknown): Promise<PreferenceSetRow> {
    const [row] = await this.db.query(
      `INSERT INTO preference_sets (project_id, filters) VALUES ($1, $2) RETURNING ${SET_COLUMNS}`,
      [projectId, JSON.stringify(filters)],
    );
    return row;
  }

  async insertPairs(setId: string, firstSeq: number, rows: StoredPairRow[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <T>(pick: (r: StoredPairRow) => T) => rows.map(pick);
    await this.db.query(
      `INSERT INTO preference_pairs (set_id, seq, chosen_id, rejected_id, chosen_uri, rejected_uri, prompt, request_id,
              model_version, margin, weight, tie, scope, group_key, split, source, dimensions, chosen_fps, chosen_frames,
              rejected_fps, rejected_frames)
       SELECT $1, $2 + ord - 1, chosen_id, rejected_id, chosen_uri, rejected_uri, prompt, request_id, model_version,
              margin, weight, tie, scope, group_key, split, source, dimensions, chosen_fps, chosen_frames, rejected_fps,
              rejected_frames
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
              $9::text[], $10::real[], $11::real[], $12::bool[], $13::text[], $14::text[], $15::text[], $16::text[],
              $17::jsonb[], $18::real[], $19::integer[], $20::real[], $21::integer[]) WITH ORDINALITY AS u(chosen_id,
              rejected_id, chosen_uri, rejected_uri, prompt, request_id, model_version, margin, weight, tie, scope,
              group_key, split, source, dimensions, chosen_fps, chosen_frames, rejected_fps, rejected_frames, ord)`,
      [setId, firstSeq, col((r) => r.chosenId), col((r) => r.rejectedId), col((r) => r.chosenUri), col((r) => r.rejectedUri),
        col((r) => r.prompt), col((r) => r.requestId), col((r) => r.modelVersion), col((r) => r.margin), col((r) => r.weight),
        col((r) => r.tie), col((r) => r.scope), col((r) => r.groupKey), col((r) => r.split), col((r) => r.source),
        col((r) => JSON.stringify(r.dimensions)), col((r) => r.chosenFps ?? null), col((r) => r.chosenFrames ?? null),
        col((r) => r.rejectedFps ?? null), col((r) => r.rejectedFrames ?? null)],
    );
  }

  /** The set's own user salt (see TrainerReadyExports1764002300000); written once per build attempt, never exported. */
  async setUserSalt(setId: string, salt: Buffer): Promise<void> {
    await this.db.query(`UPDATE preference_sets SET user_salt = $2 WHERE id = $1`, [setId, salt]);
  }

  async userSalt(setId: string): Promise<Buffer | null> {
    const rows = await this.db.query(`SELECT user_salt FROM preference_sets WHERE id = $1`, [setId]);
    return rows[0]?.user_salt ?? null;
  }

  async insertOutcomes(setId: string, firstSeq: number, rows: VideoOutcome[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <T>(pick: (r: VideoOutcome) => T) => rows.map(pick);
    await this.db.query(
      `INSERT INTO preference_outcomes (set_id, seq, video_id, request_id, prompt, prompt_norm, uri, model_version, split, n,
              reward, rewards, positive, negative, label, fps, num_frames)
       SELECT $1, $2 + ord - 1, video_id, request_id, prompt, prompt_norm, uri, model_version, split, n, reward, rewards,
              positive, negative, label, fps, num_frames
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[],
              $11::real[], $12::jsonb[], $13::int[], $14::int[], $15::bool[], $16::real[], $17::int[]) WITH ORDINALITY
              AS u(video_id, request_id, prompt, prompt_norm, uri, model_version, split, n, reward, rewards, positive,
              negative, label, fps, num_frames, ord)`,
      [setId, firstSeq, col((r) => r.videoId), col((r) => r.requestId), col((r) => r.prompt), col((r) => r.promptNorm),
        col((r) => r.uri), col((r) => r.modelVersion), col((r) => r.split), col((r) => r.n), col((r) => r.reward),
        col((r) => JSON.stringify(r.rewards)), col((r) => r.positive), col((r) => r.negative), col((r) => r.label),
        col((r) => r.fps), col((r) => r.numFrames)],
    );
  }

  /**
   * The set's outcomes (of one split, or all), a page at a time, from one COPY: in seq order (request id, then
   * video id), or grouped by normalised prompt (`byPrompt`: prompt_norm, then seq) for prompt groups.
   */
  async *outcomePages(setId: string, opts: { split?: PairSplitFilter; byPrompt?: boolean } = {}): AsyncGenerator<VideoOutcome[]> {
    const split = opts.split ? ` AND split = '${splitLiteral(opts.split)}'` : '';
    const sql = `COPY (SELECT ${OUTCOME_COLUMNS} FROM preference_outcomes WHERE set_id = '${uuidLiteral(setId)}'${split}
      ORDER BY ${opts.byPrompt ? 'prompt_norm COLLATE "C", seq' : 'seq'}) TO STDOUT`;
    for await (const batch of this.copyOut(sql, (stream) => copyRowBatches(stream, PAGE_ROWS))) {
      yield copyTextRows(batch.toString('utf8')).map(outcomeFromCopyFields);
    }
  }

  /** Outcomes an export (of one split, or all) holds, and how many have no label (kto-jsonl leaves those out). */
  async outcomeCounts(setId: string, split?: PairSplitFilter): Promise<{ outcomes: number; neutral: number }> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS outcomes, count(*) FILTER (WHERE label IS NULL)::int AS neutral
         FROM preference_outcomes WHERE set_id = $1 AND ($2::text IS NULL OR split = $2)`,
      [setId, split ?? null],
    );
    return row;
  }

  async insertRankings(setId: string, firstSeq: number, rows: StoredRanking[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `INSERT INTO preference_rankings (set_id, seq, request_id, prompt, source, candidates)
       SELECT $1, $2 + ord - 1, request_id, prompt, source, candidates
         FROM unnest($3::text[], $4::text[], $5::text[], $6::jsonb[]) WITH ORDINALITY
              AS u(request_id, prompt, source, candidates, ord)`,
      [setId, firstSeq, rows.map((r) => r.requestId), rows.map((r) => r.prompt), rows.map((r) => r.source),
        rows.map((r) => JSON.stringify(r.candidates))],
    );
  }

  // ---- the build queue (the trainer builds; see PreferenceSetBuildQueue1764000600000) ----

  /**
   * Claims the oldest set waiting for a build — queued, or building under a claim whose heartbeat is older than
   * `staleMs` (its trainer died) — as a new attempt. SKIP LOCKED: several trainers share the queue.
   */
  async claimBuild(staleMs: number): Promise<ClaimedSet | null> {
    const rows = rowsOf<ClaimedSet>(await this.db.query(claimSql(BUILD_QUEUE, SET_COLUMNS), [staleMs]));
    return rows[0] ?? null;
  }

  /** Keeps a claim alive; false when it was lost (another trainer took the set over, or it ended). */
  async heartbeat(setId: string, attempt: number): Promise<boolean> {
    return rowsOf(await this.db.query(heartbeatSql(BUILD_QUEUE), [setId, attempt])).length === 1;
  }

  /** Rows an earlier attempt left behind; a build starts from none. */
  async clearRows(setId: string, on: Pick<DataSource, 'query'> = this.db): Promise<void> {
    await on.query(`DELETE FROM preference_pairs WHERE set_id = $1`, [setId]);
    await on.query(`DELETE FROM preference_outcomes WHERE set_id = $1`, [setId]);
    await on.query(`DELETE FROM preference_rankings WHERE set_id = $1`, [setId]);
  }

  /** Marks the set ready, if `attempt` still holds it; false otherwise (its rows belong to a newer attempt). */
  async finish(setId: string, manifest: unknown, contentSha256: string, attempt: number): Promise<boolean> {
    const rows = rowsOf(await this.db.query(
      `UPDATE preference_sets SET status = 'ready', manifest = $2, content_sha256 = $3, heartbeat_at = NULL, error = NULL
        WHERE id = $1 AND status = 'building' AND attempts = $4 RETURNING id`,
      [setId, JSON.stringify(manifest), contentSha256, attempt],
    ));
    return rows.length === 1;
  }

  /** A failed build keeps no rows (the set would not be complete). Only `attempt`'s claim can fail the set. */
  async fail(setId: string, error: string, attempt: number): Promise<void> {
    await this.endClaim(setId, 'failed', error, attempt);
  }

  /**
   * Gives `attempt`'s claim back to the queue without its rows (the build failed on an unavailable dependency);
   * `error` says why it waits. The next claim is a new attempt, so MAX_SET_BUILD_ATTEMPTS bounds the releases too.
   */
  async release(setId: string, error: string, attempt: number): Promise<boolean> {
    return this.endClaim(setId, 'queued', error, attempt);
  }

  /** Ends `attempt`'s build as `status` with `error`, clearing its rows in the same transaction; false if not held. */
  private endClaim(setId: string, status: 'failed' | 'queued', error: string, attempt: number): Promise<boolean> {
    return this.db.transaction(async (em) => {
      const held = rowsOf(await em.query(
        `UPDATE preference_sets SET status = $4, error = $2, heartbeat_at = NULL WHERE id = $1 AND attempts = $3 AND status = 'building' RETURNING id`,
        [setId, error, attempt, status],
      ));
      if (held.length > 0) await this.clearRows(setId, em);
      return held.length > 0;
    });
  }

  /**
   * Records that an export of a ready set starts (the first one's time stays): the set has left the service. False
   * when the set is not ready (a deletion may just have queued it for a rebuild).
   */
  async markExported(setId: string): Promise<boolean> {
    const rows = rowsOf(await this.db.query(
      `UPDATE preference_sets SET exported_at = coalesce(exported_at, now()) WHERE id = $1 AND status = 'ready' RETURNING id`, [setId],
    ));
    return rows.length === 1;
  }

  async list(projectId: string): Promise<PreferenceSetRow[]> {
    return this.db.query(`SELECT ${SET_COLUMNS} FROM preference_sets WHERE project_id = $1 ORDER BY created_at DESC`, [projectId]);
  }

  /** A set by id alone: for the trainer, which serves every project. */
  async get(id: string): Promise<PreferenceSetRow | null> {
    const rows = await this.db.query(`SELECT ${SET_COLUMNS} FROM preference_sets WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async find(projectId: string, id: string): Promise<PreferenceSetRow | null> {
    const rows = await this.db.query(`SELECT ${SET_COLUMNS} FROM preference_sets WHERE project_id = $1 AND id = $2`, [projectId, id]);
    return rows[0] ?? null;
  }

  /**
   * The set's pairs in sequence order, streamed by one `COPY (…) TO STDOUT` and split here, a page (PAGE_ROWS rows
   * of the COPY batches) at a time: constant memory, and the rows never go through the driver's per-column parsers,
   * which made keyset pages 3–4× slower than psql \\copy.
   */
  async *pairPages(setId: string, afterSeq = -1, split?: PairSplitFilter): AsyncGenerator<(StoredPairRow & { seq: number })[]> {
    const sql = pairsCopySql(setId, { afterSeq, split, columns: PAIR_ROW_COLUMNS });
    for await (const batch of this.copyOut(sql, (stream) => copyRowBatches(stream, PAGE_ROWS))) {
      yield copyTextRows(batch.toString('utf8')).map(pairFromCopyFields);
    }
  }

  /**
   * The raw COPY text (UTF-8 bytes) of the set's pairs in batches of `rows` whole rows, for parsers that run
   * elsewhere (the parallel export's worker threads, CopyRowScanner); pairPages parses them here.
   */
  async *pairBatches(setId: string, rows: number, split?: PairSplitFilter): AsyncGenerator<Buffer> {
    yield* this.copyOut(pairsCopySql(setId, { split }), (stream) => copyRowBatches(stream, rows));
  }

  /**
   * What an export of the set's pairs (of one split, or all) will hold: pairs, ties, and pairs with no label in any
   * of `dimensions` (videoalign-csv leaves those out), counted before the bytes stream so the response can say it.
   */
  async pairCounts(setId: string, split?: PairSplitFilter, dimensions: readonly string[] = []): Promise<{ pairs: number; ties: number; unlabelled: number }> {
    const [row] = await this.db.query(
      `SELECT count(*)::int AS pairs, count(*) FILTER (WHERE tie)::int AS ties,
              count(*) FILTER (WHERE NOT (dimensions ?| $3::text[]))::int AS unlabelled
         FROM preference_pairs WHERE set_id = $1 AND ($2::text IS NULL OR split = $2)`,
      [setId, split ?? null, dimensions],
    );
    return row;
  }

  /**
   * Runs `COPY … TO STDOUT` on a connection of its own and hands the stream to `read`. A COPY cannot be stopped
   * half-way and the connection reused: when the consumer stops early (an export whose client went away) or
   * anything fails, the connection is discarded, not returned to the pool, where the next query on it would wait
   * forever behind the unfinished COPY.
   */
  private async *copyOut<T>(sql: string, read: (stream: Readable) => AsyncGenerator<T>): AsyncGenerator<T> {
    const client = await copyConnection(this.db);
    let complete = false;
    try {
      yield* read(client.query(copyTo(sql)));
      complete = true;
    } finally {
      client.release(complete ? undefined : new Error('COPY stopped before its end: connection discarded'));
    }
  }

  /** The set's pairs in sequence order, those after `afterSeq` (a resumed publication) or all. */
  async *pairs(setId: string, afterSeq = -1): AsyncGenerator<StoredPairRow & { seq: number }> {
    for await (const page of this.pairPages(setId, afterSeq)) yield* page;
  }

  async rankingCount(setId: string): Promise<number> {
    const [row] = await this.db.query(`SELECT count(*)::int AS n FROM preference_rankings WHERE set_id = $1`, [setId]);
    return row.n;
  }

  async *rankings(setId: string, afterSeq = -1): AsyncGenerator<StoredRanking & { seq: number }> {
    for (let after = afterSeq; ;) {
      const rows: Record<string, unknown>[] = await this.db.query(
        `SELECT seq, request_id, prompt, source, candidates FROM preference_rankings
          WHERE set_id = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`,
        [setId, after],
      );
      for (const r of rows) {
        yield { seq: r.seq as number, requestId: r.request_id as string, prompt: r.prompt as string, source: r.source as StoredRanking['source'], candidates: r.candidates as StoredRanking['candidates'] };
      }
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].seq as number;
    }
  }

  // ---- generator lineage ----

  async registerGeneratorVersion(projectId: string, v: { model: string; modelVersion: string; parentVersion?: string | null; trainedOn: string[]; notes?: string | null }) {
    const rows = rowsOf(await this.db.query(
      `INSERT INTO generator_versions (project_id, model, model_version, parent_version, trained_on, notes)
       VALUES ($1, $2, $3, $4, $5::uuid[], $6)
       ON CONFLICT (project_id, model, model_version) DO UPDATE SET parent_version = excluded.parent_version,
         trained_on = excluded.trained_on, notes = excluded.notes
       RETURNING model, model_version AS "modelVersion", parent_version AS "parentVersion", trained_on AS "trainedOn", notes, created_at AS "createdAt"`,
      [projectId, v.model, v.modelVersion, v.parentVersion ?? null, v.trainedOn, v.notes ?? null],
    ));
    return rows[0];
  }

  async generatorVersions(projectId: string) {
    return this.db.query(
      `SELECT model, model_version AS "modelVersion", parent_version AS "parentVersion", trained_on AS "trainedOn", notes,
              created_at AS "createdAt"
         FROM generator_versions WHERE project_id = $1 ORDER BY created_at`,
      [projectId],
    );
  }

  async generatorVersion(projectId: string, modelVersion: string) {
    const rows = await this.db.query(
      `SELECT model, model_version AS "modelVersion", parent_version AS "parentVersion", trained_on AS "trainedOn", notes,
              created_at AS "createdAt"
         FROM generator_versions WHERE project_id = $1 AND model_version = $2`,
      [projectId, modelVersion],
    );
    return rows[0] ?? null;
  }
}
