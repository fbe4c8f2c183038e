import { FlywheelError } from '@flywheel/errors';

/**
 * The one configuration object. Only this file reads process.env; everything else receives a FlywheelConfig.
 * Every setting has a local default that works on a developer machine (PostgreSQL at 127.0.0.1:5432 with trust
 * auth, Kafka at 127.0.0.1:9092). In production (FLYWHEEL_ENV=production) the secrets have no default.
 */
export interface FlywheelConfig {
  env: 'development' | 'test' | 'production';
  database: { host: string; port: number; user: string; password: string; name: string; poolSize: number };
  kafka: {
    brokers: string[]; clientId: string; topicPrefix: string; sendTimeoutMs: number;
    /**
     * Replicas and minimum in-sync replicas of the topics the project creates; null leaves it to the broker's
     * default.replication.factor and min.insync.replicas (deploy/kafka.sh: 1 and 1; deploy/kafka-cluster.sh: 3 and 2).
     */
    replicationFactor: number | null;
    minInsyncReplicas: number | null;
  };
  api: {
    port: number; host: string; bodyLimitBytes: number; keyCacheTtlMs: number;
    /** POST /v1/rewards's own body limit: a rollout batch of up to 2,048 feature vectors outgrows bodyLimitBytes. */
    rewardsBodyLimitBytes: number;
    /**
     * Browser origins (`https://editor.example.com`, or `*`) that may call the ingest routes when a project lists
     * none of its own, and those that may call the read routes (none: same-origin only).
     */
    cors: { ingestOrigins: string[]; readOrigins: string[] };
    /** Bootstrap token for the admin routes (create and delete projects over HTTP); null: admin routes disabled. */
    adminToken: string | null;
    /** Token buckets per key, by kind, unless the project overrides them; 0 per second means unlimited. */
    rateLimits: Record<'ingest' | 'secret', RateLimit>;
  };
  worker: {
    groupId: string; partitionsConsumedConcurrently: number; maxBytesPerPartition: number; metricsPort: number;
    /** A killed worker's partitions move to another after this long without heartbeats. */
    sessionTimeoutMs: number;
    /** A partition whose offset has not moved for this long while messages wait is stalled (/health/ready, gauge). */
    stallAfterMs: number;
  };
  trainer: {
    /** How often the trainer looks for queued jobs. */
    pollMs: number;
    /** Train every project with new feedback this often (0: only queued jobs). */
    scheduleMinutes: number;
    /** Threads for MLP training (worker_threads). */
    threads: number;
    /**
     * A preference-set build whose trainer has not sent a heartbeat for this long is taken over by another trainer
     * (heartbeats go every quarter of it).
     */
    setLeaseMs: number;
    /**
     * A running training job whose trainer has not sent a heartbeat for this long is taken over by another trainer.
     * Longer than the set lease: fitting one model is synchronous, and no heartbeat goes out until it returns.
     */
    jobLeaseMs: number;
    /** How often the trainer runs the feedback_events partition maintenance (0: never; run it elsewhere then). */
    eventMaintenanceMinutes: number;
  };
  /** The time partitions of feedback_events (see libs/database EventPartitions). */
  events: {
    /** Range of one new partition: a UTC day or a Monday-based week. */
    partitionPeriod: 'day' | 'week';
    /** Partitions are created this many days ahead (occurredAt may be up to a day in the future). */
    partitionsAheadDays: number;
  };
  /** Where the `flywheel` CLI finds the api, and the secret key it uses (flags override both). */
  cli: { apiUrl: string; apiKey: string | null; adminToken: string | null };
  /** Key of the HMAC that replaces raw user ids inside the api process (invariant 5). */
  userHmacKey: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * A token bucket: `perSecond` tokens flow in, at most `burst` are kept. An ingest batch costs one token per event or
 * generation, any other request one.
 */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export class ConfigError extends FlywheelError<'CONFIG_INVALID'> {
  constructor(readonly variable: string, message: string) {
    super('CONFIG_INVALID', `${variable}: ${message}`, { details: { variable } });
  }
}

type Env = Record<string, string | undefined>;

const DEV_HMAC_KEY = 'flywheel-local-development-key-do-not-use-in-production';

function str(env: Env, name: string, fallback: string | undefined): string {
  const value = env[name];
  if (value !== undefined && value !== '') return value;
  if (fallback === undefined) throw new ConfigError(name, 'is required');
  return fallback;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function optionalInt(env: Env, name: string, min: number, max: number): number | null {
  const raw = env[name];
  return raw === undefined || raw === '' ? null : int(env, name, 0, min, max);
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const value = str(env, name, fallback);
  if (!allowed.includes(value as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** `*`, or an origin as browsers send it: scheme, host, optional port, no path and no trailing slash. */
export const ORIGIN_PATTERN = /^(\*|https?:\/\/[^/\s:]+(:\d{1,5})?)$/;

/** A comma-separated list of origins; `none` for an empty list. */
function origins(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'none') return [];
  const list = raw.split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    if (!ORIGIN_PATTERN.test(origin)) throw new ConfigError(name, `"${origin}" is not an origin like https://editor.example.com (or *, or none)`);
  }
  return list;
}

function rateLimit(env: Env, kind: string, perSecond: number, burst: number): RateLimit {
  const prefix = `RATE_LIMIT_${kind}`;
  return { perSecond: int(env, `${prefix}_PER_SECOND`, perSecond, 0, 10_000_000), burst: int(env, `${prefix}_BURST`, burst, 1, 100_000_000) };
}

export function loadConfig(env: Env = process.env): FlywheelConfig {
  const mode = oneOf(env, 'FLYWHEEL_ENV', 'development', ['development', 'test', 'production'] as const);
  const production = mode === 'production';
  const brokers = str(env, 'KAFKA_BROKERS', '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d+$/.test(broker)) throw new ConfigError('KAFKA_BROKERS', `"${broker}" is not host:port`);
  }
  const hmacKey = str(env, 'FLYWHEEL_USER_HMAC_KEY', production ? undefined : DEV_HMAC_KEY);
  if (hmacKey.length < 16) throw new ConfigError('FLYWHEEL_USER_HMAC_KEY', 'must be at least 16 characters');
  const replicationFactor = optionalInt(env, 'KAFKA_REPLICATION_FACTOR', 1, 32);
  const minInsyncReplicas = optionalInt(env, 'KAFKA_MIN_INSYNC_REPLICAS', 1, 32);
  if (replicationFactor !== null && minInsyncReplicas !== null && minInsyncReplicas > replicationFactor) {
    // No write could ever be acknowledged.
    throw new ConfigError('KAFKA_MIN_INSYNC_REPLICAS', `must not exceed KAFKA_REPLICATION_FACTOR (${replicationFactor}), got ${minInsyncReplicas}`);
  }
  const topicPrefix = str(env, 'KAFKA_TOPIC_PREFIX', '');
  const adminToken = env.FLYWHEEL_ADMIN_TOKEN || null;
  if (adminToken !== null && adminToken.length < 24) throw new ConfigError('FLYWHEEL_ADMIN_TOKEN', 'must be at least 24 characters');
  const ingestLimit = rateLimit(env, 'INGEST', 100_000, 200_000);
  if (ingestLimit.burst < 1000) {
    throw new ConfigError('RATE_LIMIT_INGEST_BURST', 'must be at least 1000 (a batch of 1000 events costs 1000 tokens)');
  }
  if (!/^[a-zA-Z0-9._-]*$/.test(topicPrefix)) {
    throw new ConfigError('KAFKA_TOPIC_PREFIX', 'may only hold letters, digits, ".", "_" and "-"');
  }
  return {
    env: mode,
    database: {
      host: str(env, 'PGHOST', '127.0.0.1'),
      port: int(env, 'PGPORT', 5432, 1, 65535),
      user: str(env, 'PGUSER', 'postgres'),
      password: str(env, 'PGPASSWORD', ''),
      name: str(env, 'PGDATABASE', 'flywheel'),
      poolSize: int(env, 'PG_POOL_SIZE', 10, 1, 200),
    },
    kafka: {
      brokers,
      clientId: str(env, 'KAFKA_CLIENT_ID', 'flywheel'),
      topicPrefix,
      sendTimeoutMs: int(env, 'KAFKA_SEND_TIMEOUT_MS', 5000, 100, 120000),
      replicationFactor,
      minInsyncReplicas,
    },
    api: {
      port: int(env, 'PORT', 8080, 0, 65535),
      host: str(env, 'HOST', '127.0.0.1'),
      bodyLimitBytes: int(env, 'API_BODY_LIMIT_BYTES', 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      rewardsBodyLimitBytes: int(env, 'API_REWARDS_BODY_LIMIT_BYTES', 64 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      keyCacheTtlMs: int(env, 'API_KEY_CACHE_TTL_MS', 30000, 0, 3600000),
      cors: { ingestOrigins: origins(env, 'CORS_INGEST_ORIGINS', ['*']), readOrigins: origins(env, 'CORS_READ_ORIGINS', []) },
      adminToken,
      rateLimits: { ingest: ingestLimit, secret: rateLimit(env, 'SECRET', 10_000, 20_000) },
    },
    worker: {
      groupId: str(env, 'WORKER_GROUP_ID', 'flywheel-ingest'),
      partitionsConsumedConcurrently: int(env, 'WORKER_PARTITION_CONCURRENCY', 3, 1, 64),
      maxBytesPerPartition: int(env, 'WORKER_MAX_BYTES_PER_PARTITION', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      metricsPort: int(env, 'WORKER_METRICS_PORT', 9464, 0, 65535),
      sessionTimeoutMs: int(env, 'WORKER_SESSION_TIMEOUT_MS', 10000, 6000, 300000),
      stallAfterMs: int(env, 'WORKER_STALL_AFTER_MS', 30000, 100, 3_600_000),
    },
    trainer: {
      pollMs: int(env, 'TRAINER_POLL_MS', 2000, 100, 600000),
      scheduleMinutes: int(env, 'TRAINER_SCHEDULE_MINUTES', 0, 0, 7 * 24 * 60),
      threads: int(env, 'TRAINER_THREADS', 2, 1, 64),
      setLeaseMs: int(env, 'TRAINER_SET_LEASE_MS', 60_000, 1000, 3_600_000),
      jobLeaseMs: int(env, 'TRAINER_JOB_LEASE_MS', 1_800_000, 1000, 86_400_000),
      eventMaintenanceMinutes: int(env, 'EVENTS_MAINTENANCE_MINUTES', 60, 0, 24 * 60),
    },
    events: {
      partitionPeriod: oneOf(env, 'EVENTS_PARTITION_PERIOD', 'day', ['day', 'week'] as const),
      partitionsAheadDays: int(env, 'EVENTS_PARTITIONS_AHEAD_DAYS', 7, 2, 365),
    },
    cli: { apiUrl: str(env, 'FLYWHEEL_API_URL', 'http://127.0.0.1:8080'), apiKey: env.FLYWHEEL_API_KEY || null, adminToken },
    userHmacKey: hmacKey,
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error'] as const),
  };
}

/** Loads the configuration or stops the process with a message that names the variable. */
export function loadConfigOrExit(env: Env = process.env): FlywheelConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`flywheel: invalid configuration: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}
