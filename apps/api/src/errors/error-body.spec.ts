import { validationFailed } from './validation';
import { MAX_ERROR_BODY_BYTES, MAX_ERROR_DETAILS, clip, errorBody } from './error-body';

describe('errorBody', () => {
  it('always carries details: field problems for a validation failure, facts otherwise', () => {
    expect(errorBody('NOT_FOUND', 'no video v')).toEqual({ error: { code: 'NOT_FOUND', message: 'no video v', details: {} } });
    expect(errorBody('VALIDATION_FAILED', 'x must be y').error.details).toEqual([]);
    expect(errorBody('FORBIDDEN', 'no', { origin: 'o' }).error.details).toEqual({ origin: 'o' });
  });

  it('caps a long list of problems: the first 20, a count in the message, 8 KiB at most', () => {
    const problems = Array.from({ length: 50_000 }, (_, i) => ({ field: `unknown${i}`, problems: [`property unknown${i} should not exist`] }));
    const error = validationFailed(problems);
    const body = errorBody(error.code, error.message, error.details);
    expect(body.error.message).toBe('property unknown0 should not exist (and 49999 more)');
    expect(body.error.details).toHaveLength(MAX_ERROR_DETAILS);
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES);
  });

  it('clips long names, problems and messages without splitting a character, and stays under 8 KiB', () => {
    const long = '🐈'.repeat(100_000);
    const body = errorBody('VALIDATION_FAILED', long, Array.from({ length: 30 }, () => ({ field: long, problems: [long, long, long, long, long, long] })));
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(MAX_ERROR_BODY_BYTES);
    expect((body.error.message as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
    expect(clip('ab🐈', 3)).toBe('ab…');
    expect(errorBody('FORBIDDEN', 'no', { origin: long }).error.details).toEqual({ truncated: expect.stringContaining('characters of details left out') });
  });
});
