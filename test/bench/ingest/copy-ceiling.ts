/*
 * The ceiling of bench:ingest, measured in the same run on the same database: the persisted rows read back with
 * COPY TO and written with COPY FROM into a logged scratch table LIKE feedback_events INCLUDING ALL (same keys and
 * indexes). For the profile, also the worker's own event INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING alone,
 * in the worker's mean batch size ("insert-only").
 */
import { performance } from 'node:perf_hooks';
import { Client, Query } from 'pg';

/*
 * COPY over pg's protocol: these two submittables drive the COPY messages through pg's own hooks
 * (handleCopyInResponse / handleCopyData of its Query), so the timed COPY FROM sends chunks already in memory and
 * reads nothing else meanwhile.
 */
interface PgConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

interface PgQueryHooks {
  handleCopyInResponse(connection: PgConnection): void;
  handleCopyData(message: { chunk: Buffer }, connection: PgConnection): void;
}

const PgQuery = Query as unknown as new (text: string) => PgQueryHooks;

class CopyFromChunks extends PgQuery {
  constructor(text: string, private readonly chunks: Buffer[]) {
    super(text);
  }

  override handleCopyInResponse(connection: PgConnection): void {
    for (const chunk of this.chunks) connection.sendCopyFromChunk(chunk);
    connection.endCopyFrom();
  }
}

class CopyToChunks extends PgQuery {
  readonly chunks: Buffer[] = [];

  override handleCopyData(message: { chunk: Buffer }): void {
    this.chunks.push(Buffer.from(message.chunk)); // the parser's buffer is reused
  }
}

function submit(client: Client, query: object): Promise<{ rowCount: number | null }> {
  return new Promise((resolve, reject) => {
    (client.query as unknown as (q: object, cb: (e: Error | null, r: { rowCount: number | null }) => void) => void)
      .call(client, query, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Regroups COPY rows into ~64 KiB CopyData messages, as a streaming client would send them. */
function rechunk(rows: Buffer[], size = 64 * 1024): Buffer[] {
  const out: Buffer[] = [];
  let pending: Buffer[] = [];
  let length = 0;
  for (const row of rows) {
    pending.push(row);
    length += row.length;
    if (length >= size) {
      out.push(Buffer.concat(pending, length));
      pending = [];
      length = 0;
    }
  }
  if (length) out.push(Buffer.concat(pending, length));
  return out;
}

export const EVENT_COLUMNS = 'project_id, event_id, type, video_id, user_hash, occurred_at, received_at, session_id, request_id, watch_ms, duration_ms, rating, dimension';

export interface CopyCeiling {
  perSec: number;
  seconds: number;
  /** Size of the rows as COPY text. */
  bytes: number;
  /** WAL the COPY wrote. */
  walBytes: number;
}

/** COPY of the project's `expected` persisted events into bench_copy_ceiling. */
export async function measureCopyCeiling(pg: Client, projectId: string, expected: number): Promise<CopyCeiling> {
  const copyOut = new CopyToChunks(`COPY (SELECT ${EVENT_COLUMNS} FROM feedback_events WHERE project_id = '${projectId}') TO STDOUT`);
  await submit(pg, copyOut);
  const chunks = rechunk(copyOut.chunks);
  const bytes = chunks.reduce((s, c) => s + c.length, 0);
  await pg.query('CREATE TABLE bench_copy_ceiling (LIKE feedback_events INCLUDING ALL)');
  await pg.query('CHECKPOINT').catch(() => undefined); // start from a clean WAL position, as the timed phase did
  const walBefore = await walPosition(pg);
  const started = performance.now();
  const copied = await submit(pg, new CopyFromChunks(`COPY bench_copy_ceiling (${EVENT_COLUMNS}) FROM STDIN`, chunks));
  const seconds = (performance.now() - started) / 1000;
  const walBytes = (await walPosition(pg)) - walBefore;
  if (copied.rowCount !== expected) throw new Error(`COPY wrote ${copied.rowCount} rows, expected ${expected}`);
  return { perSec: expected / seconds, seconds, bytes, walBytes };
}

/** Seconds the worker's event INSERT takes alone for the project's events, `batch` rows a statement, one connection. */
export async function measureInsertOnly(pg: Client, projectId: string, batch: number): Promise<number> {
  const rows = (await pg.query(`SELECT ${EVENT_COLUMNS} FROM feedback_events WHERE project_id = $1`, [projectId])).rows;
  await pg.query('CREATE TABLE bench_insert_ceiling (LIKE feedback_events INCLUDING ALL)');
  const started = performance.now();
  for (let i = 0; i < rows.length; i += batch) {
    const slice = rows.slice(i, i + batch);
    const col = (name: string) => slice.map((r) => r[name]);
    await pg.query(
      `INSERT INTO bench_insert_ceiling (${EVENT_COLUMNS})
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                            $7::timestamptz[], $8::text[], $9::text[], $10::float8[], $11::float8[], $12::int2[], $13::text[])
       ON CONFLICT DO NOTHING
       RETURNING project_id, event_id`,
      EVENT_COLUMNS.split(', ').map(col),
    );
  }
  return (performance.now() - started) / 1000;
}

/** The cluster's current WAL position in bytes. */
export async function walPosition(pg: Client): Promise<number> {
  return Number((await pg.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS lsn`)).rows[0].lsn);
}

export async function walLsn(pg: Client): Promise<string> {
  return (await pg.query(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0].lsn;
}

/**
 * WAL bytes between two positions whose records touch this database's relations (pg_walinspect reads the records
 * back; transaction commit records, which name no relation, are left out): the ingest's own WAL, without the other
 * databases of a shared server. NaN when the WAL is no longer there (a checkpoint recycled it) or the extension is
 * missing.
 */
export async function databaseWalBytes(pg: Client, from: string, to: string): Promise<number> {
  try {
    await pg.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    const { rows } = await pg.query(
      `SELECT coalesce(sum(record_length), 0)::float8 AS bytes
         FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)
        WHERE block_ref ~ ('rel [0-9]+/' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '/')`,
      [from, to],
    );
    return Number(rows[0].bytes);
  } catch {
    return NaN;
  }
}
