import { Logger } from '@nestjs/common';
import { DatabaseUnavailableError } from '@flywheel/database';
import { FlywheelError } from '@flywheel/errors';
import { BrokerUnavailableError } from '@flywheel/kafka';
import { PromotionError, TrainingError } from '@flywheel/training';
import { PreferencesError } from '@flywheel/preferences';
import { RewardModelError } from '@flywheel/reward-model';
import { toResponse } from './http-exception.filter';

const logger = { error: jest.fn() } as unknown as Logger;
const answer = (exception: unknown) => {
  const { status, body } = toResponse(exception, logger);
  return { status, ...(body as { error: { code: string; message: string; details?: unknown } }).error };
};

describe('toResponse', () => {
  it("maps the libraries' errors through the one table instead of answering 500", () => {
    expect(answer(new RewardModelError('INVALID_ONNX', 'not an ONNX model'))).toMatchObject({ status: 422, code: 'INVALID_ONNX', message: 'not an ONNX model' });
    expect(answer(new RewardModelError('FEATURE_DIM_MISMATCH', 'expected 4 features'))).toMatchObject({ status: 400, code: 'FEATURE_DIM_MISMATCH' });
    expect(answer(new PreferencesError('INVALID_OPTIONS', 'seed: must be an integer', { details: { option: 'seed' } })))
      .toEqual({ status: 400, code: 'INVALID_OPTIONS', message: 'seed: must be an integer', details: { option: 'seed' } });
    expect(answer(new PreferencesError('UNKNOWN_FORMAT', "unknown pair export format 'xml'"))).toMatchObject({ status: 400, code: 'UNKNOWN_FORMAT' });
    expect(answer(new PromotionError('MODEL_NOT_FOUND', 'no model m'))).toMatchObject({ status: 404, code: 'MODEL_NOT_FOUND' });
    expect(answer(new PromotionError('NOT_A_CANDIDATE', 'already in production'))).toMatchObject({ status: 409 });
    expect(answer(new TrainingError('NOT_ENOUGH_PAIRS', 'only 3 pairs'))).toMatchObject({ status: 422 });
    expect(answer(new FlywheelError('VALIDATION_FAILED', 'events[0].rating …', { details: [{ field: 'events[0].rating', problems: ['…'] }] })))
      .toMatchObject({ status: 400, details: [{ field: 'events[0].rating' }] });
  });

  it('answers 503 for an unavailable dependency, found by the classifier', () => {
    expect(answer(new BrokerUnavailableError('no acknowledgement from Kafka for t.flywheel.events.v1 within 5000 ms')))
      .toMatchObject({ status: 503, code: 'BROKER_UNAVAILABLE', message: 'Kafka is unavailable; nothing was accepted, retry later' });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(answer(refused)).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    const lost = new DatabaseUnavailableError('lost the connection to the database: Connection terminated unexpectedly');
    expect(answer(Object.assign(new Error(lost.message), { name: 'QueryFailedError', driverError: lost }))).toMatchObject({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    expect(answer(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toMatchObject({ status: 503 });
  });

  it('does not read messages: an unexplained error is a logged 500, whatever it says', () => {
    expect(answer(new Error('Connection terminated unexpectedly'))).toEqual({ status: 500, code: 'INTERNAL', message: 'internal error', details: {} });
    expect(answer(new RewardModelError('TRAINING_WORKER_FAILED', 'worker 2 failed'))).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(logger.error).toHaveBeenCalled();
  });
});
