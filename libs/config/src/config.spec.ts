import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives working local defaults', () => {
    const config = loadConfig({});
    expect(config.database).toMatchObject({ host: '127.0.0.1', port: 5432, name: 'flywheel' });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.api.port).toBe(8080);
  });

  it('names the variable that is malformed', () => {
    expect(() => loadConfig({ PGPORT: 'five' })).toThrow(new ConfigError('PGPORT', 'must be an integer, got "five"'));
    expect(() => loadConfig({ KAFKA_BROKERS: 'localhost' })).toThrow(/KAFKA_BROKERS/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL: must be one of/);
  });

  it('requires the HMAC key in production', () => {
    expect(() => loadConfig({ FLYWHEEL_ENV: 'production' })).toThrow(/FLYWHEEL_USER_HMAC_KEY: is required/);
    const config = loadConfig({ FLYWHEEL_ENV: 'production', FLYWHEEL_USER_HMAC_KEY: 'x'.repeat(32) });
    expect(config.userHmacKey).toBe('x'.repeat(32));
  });

  it('parses a broker list and rejects an unsafe topic prefix', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:1, b:2' }).kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(() => loadConfig({ KAFKA_TOPIC_PREFIX: 'a b' })).toThrow(/KAFKA_TOPIC_PREFIX/);
  });

  it('leaves topic durability to the broker unless set, and refuses a minimum no write could meet', () => {
    expect(loadConfig({}).kafka).toMatchObject({ replicationFactor: null, minInsyncReplicas: null });
    expect(loadConfig({ KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' }).kafka).toMatchObject({ replicationFactor: 3, minInsyncReplicas: 2 });
    expect(() => loadConfig({ KAFKA_REPLICATION_FACTOR: '0' })).toThrow(/KAFKA_REPLICATION_FACTOR: must be between 1 and 32/);
    expect(() => loadConfig({ KAFKA_REPLICATION_FACTOR: '1', KAFKA_MIN_INSYNC_REPLICAS: '2' })).toThrow(/KAFKA_MIN_INSYNC_REPLICAS: must not exceed/);
  });
});

describe('loadConfig: CORS, admin token, rate limits', () => {
  it('defaults: any origin may post to ingest routes, reads stay same-origin, no admin token', () => {
    const config = loadConfig({});
    expect(config.api.cors).toEqual({ ingestOrigins: ['*'], readOrigins: [] });
    expect(config.api.adminToken).toBeNull();
    expect(config.api.rateLimits.ingest.burst).toBeGreaterThanOrEqual(1000);
  });

  it('parses origin lists and names a malformed origin', () => {
    const config = loadConfig({ CORS_INGEST_ORIGINS: 'https://a.example.com, http://localhost:5173', CORS_READ_ORIGINS: 'none' });
    expect(config.api.cors).toEqual({ ingestOrigins: ['https://a.example.com', 'http://localhost:5173'], readOrigins: [] });
    expect(() => loadConfig({ CORS_INGEST_ORIGINS: 'https://a.example.com/' })).toThrow(/CORS_INGEST_ORIGINS: "https:\/\/a.example.com\/" is not an origin/);
  });

  it('refuses a short admin token and an ingest burst smaller than a batch', () => {
    expect(() => loadConfig({ FLYWHEEL_ADMIN_TOKEN: 'short' })).toThrow(/FLYWHEEL_ADMIN_TOKEN: must be at least 24/);
    expect(() => loadConfig({ RATE_LIMIT_INGEST_BURST: '999' })).toThrow(/RATE_LIMIT_INGEST_BURST/);
    expect(loadConfig({ RATE_LIMIT_SECRET_PER_SECOND: '0' }).api.rateLimits.secret.perSecond).toBe(0);
  });
});
