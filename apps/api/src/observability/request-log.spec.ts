import 'reflect-metadata';
import { Body, Controller, Get, Logger, Post } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { PinoNestLogger, createLogger } from '@flywheel/config';
import { HttpExceptionFilter } from '../errors/http-exception.filter';
import { installRequestLog, requestId } from './request-log';

@Controller('probe')
class ProbeController {
  private readonly logger = new Logger('ProbeController');

  @Get('ok')
  ok(): { ok: boolean } {
    this.logger.log({ msg: 'probe_handled' });
    return { ok: true };
  }

  @Post('fail')
  fail(@Body() _body: unknown): never {
    throw new Error('probe failed', { cause: new Error('the database said no') });
  }
}

/** The api's request log and error log, in-process over Fastify's inject: the same hooks and filter as the app. */
describe('request log', () => {
  const lines: Record<string, any>[] = [];
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const logger = createLogger('info', { write: (line: string) => { lines.push(JSON.parse(line)); } });
    const moduleRef = await Test.createTestingModule({ controllers: [ProbeController] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ genReqId: requestId }), { logger: new PinoNestLogger(logger) });
    app.useGlobalFilters(new HttpExceptionFilter());
    installRequestLog(app.getHttpAdapter().getInstance(), logger.child({ context: 'Http' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app.close();
    Logger.overrideLogger(true);
  });
  beforeEach(() => { lines.length = 0; });

  const named = (msg: string) => lines.filter((l) => l.msg === msg);

  it('writes one access line per request with its request id, echoed in X-Request-Id; service lines carry it too', async () => {
    const response = await app.inject({ method: 'GET', url: '/probe/ok', headers: { 'x-request-id': 'edit-app-42.7' } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe('edit-app-42.7');
    expect(named('request_completed')).toEqual([{
      level: 'info', time: expect.any(String), context: 'Http', reqId: 'edit-app-42.7', method: 'GET', url: '/probe/ok', route: '/probe/ok',
      status: 200, ms: expect.any(Number), msg: 'request_completed',
    }]);
    expect(named('probe_handled')).toEqual([expect.objectContaining({ context: 'ProbeController', reqId: 'edit-app-42.7' })]);
  });

  it('gives a request without a usable id a fresh one', async () => {
    const first = await app.inject({ method: 'GET', url: '/probe/ok' });
    const second = await app.inject({ method: 'GET', url: '/probe/ok', headers: { 'x-request-id': 'spaces are not plain' } });
    const ids = [first.headers['x-request-id'], second.headers['x-request-id']];
    expect(ids).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    expect(ids[0]).not.toBe(ids[1]);
    expect(named('request_completed').map((l) => l.reqId)).toEqual(ids);
  });

  it('logs an unhandled error with its request id, stack and cause, and answers 500 without them', async () => {
    const response = await app.inject({ method: 'POST', url: '/probe/fail', payload: { a: 1 } });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error', details: {} } });
    const reqId = response.headers['x-request-id'];
    const [error] = named('unhandled_error');
    expect(error).toMatchObject({
      level: 'error', context: 'HttpExceptionFilter', reqId,
      err: {
        type: 'Error', message: 'probe failed', stack: expect.stringContaining('Error: probe failed\n    at '),
        cause: { type: 'Error', message: 'the database said no', stack: expect.stringContaining('Error: the database said no') },
      },
    });
    expect(named('request_completed')).toEqual([expect.objectContaining({ reqId, status: 500 })]);
  });
});
