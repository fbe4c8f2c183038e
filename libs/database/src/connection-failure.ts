import { Client, DatabaseError } from 'pg';
import { DataSource, QueryRunner, ReplicationMode } from 'typeorm';
import { FlywheelError } from '@flywheel/errors';

/** The database cannot be reached now: transient (a retry later may succeed), 503 in the api. */
export class DatabaseUnavailableError extends FlywheelError<'DATABASE_UNAVAILABLE'> {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('DATABASE_UNAVAILABLE', message, options);
  }
}

type Callback = (error: Error | null, ...rest: unknown[]) => void;

/**
 * pg reports a lost connection with a bare Error ("Connection terminated unexpectedly", "…is not queryable") that
 * has no SQLSTATE, so nothing but its message would tell it apart. This client keeps the fact instead: it notes when
 * its socket fails or ends, and a failure to connect, or a query failure on a connection that was lost, becomes
 * DatabaseUnavailableError (the driver's error kept as its cause). Errors the server sent (they carry a SQLSTATE)
 * and socket errors (they carry a code) pass through untouched. The pool creates its clients with this class.
 */
export class ConnectionAwareClient extends Client {
  private lost = false;

  constructor(config?: ConstructorParameters<typeof Client>[0]) {
    super(config);
    this.on('error', () => { this.lost = true; });
    this.on('end', () => { this.lost = true; });
  }

  override connect(...args: any[]): any {
    const callback = args[0] as Callback | undefined;
    const connect = Client.prototype.connect as (...a: unknown[]) => any;
    if (typeof callback === 'function') {
      return connect.call(this, (error: Error | null, ...rest: unknown[]) => callback(error ? this.unavailable(error, true) : error, ...rest));
    }
    return connect.call(this).catch((error: Error) => { throw this.unavailable(error, true); });
  }

  override query(...args: any[]): any {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      args[args.length - 1] = (error: Error | null, ...rest: unknown[]) => (last as Callback)(error ? this.unavailable(error, false) : error, ...rest);
    }
    const result = (Client.prototype.query as (...a: any[]) => any).apply(this, args);
    if (result && typeof result.then === 'function' && typeof last !== 'function') {
      return result.catch((error: Error) => { throw this.unavailable(error, false); });
    }
    return result;
  }

  private unavailable(error: Error, connecting: boolean): Error {
    if (error instanceof DatabaseError || typeof (error as { code?: unknown }).code === 'string') return error;
    if (!connecting && !this.lost) return error;
    return new DatabaseUnavailableError(`${connecting ? 'cannot connect to' : 'lost the connection to'} the database: ${error.message}`, { cause: error });
  }
}

/** A data source that says "unavailable" (not a TypeORM internal) while its first connection has not succeeded. */
export class ConnectionAwareDataSource extends DataSource {
  override createQueryRunner(mode?: ReplicationMode): QueryRunner {
    if (!this.isInitialized) throw new DatabaseUnavailableError('no connection to the database yet');
    return super.createQueryRunner(mode);
  }
}
