import { DataSource } from 'typeorm';

/** What the apps may know of the connection pool: whether it is up, and a round trip to check it. */
export class DatabaseHealth {
  constructor(private readonly db: DataSource) {}

  /** The pool has connected at least once (until then every query fails as unavailable). */
  get connected(): boolean {
    return this.db.isInitialized;
  }

  /** Resolves when PostgreSQL answers a query now; rejects with the reason otherwise. */
  async ping(): Promise<void> {
    if (!this.db.isInitialized) throw new Error('not connected');
    await this.db.query('SELECT 1');
  }
}
