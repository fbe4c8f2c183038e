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
});
