import { Pool, type PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';
import { ConnectionAwareClient } from './connection-failure';

/**
 * A small pg pool of our own beside each data source, for `COPY … TO STDOUT` streams: a COPY holds its connection
 * until the stream ends, and one stopped half-way must be discarded, which TypeORM's pool gives no public way to do.
 * Same server and credentials as the data source; closed with it (closeCopyPool).
 */
const pools = new WeakMap<DataSource, Pool>();
const COPY_CONNECTIONS = 4;

export function copyConnection(db: DataSource): Promise<PoolClient> {
  let pool = pools.get(db);
  if (!pool) {
    const o = db.options as PostgresConnectionOptions;
    pool = new Pool({
      host: o.host, port: o.port, user: o.username, password: o.password as string | undefined, database: o.database,
      max: COPY_CONNECTIONS, idleTimeoutMillis: 5000, allowExitOnIdle: true, connectionTimeoutMillis: 5000,
      application_name: 'flywheel-copy', Client: ConnectionAwareClient,
    });
    pool.on('error', () => undefined); // an idle connection the server closed: the pool drops it
    pools.set(db, pool);
  }
  return pool.connect();
}

export async function closeCopyPool(db: DataSource): Promise<void> {
  const pool = pools.get(db);
  pools.delete(db);
  await pool?.end();
}
