import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import { PinoNestLogger, createLogger } from '@flywheel/config';
import { TrainerModule } from './trainer.module';
import { TrainerRunner } from './trainer-runner';

/**
 * The trainer. Without arguments it serves the training queue (and the schedule); with
 * `--once --project <id> [--kind linear|mlp] [--seed n] [--preference-set <id>]` it trains one model now, prints JSON and exits.
 */
async function bootstrap(): Promise<void> {
  const { values } = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      project: { type: 'string' },
      kind: { type: 'string' },
      seed: { type: 'string' },
      'preference-set': { type: 'string' },
      'no-promote': { type: 'boolean', default: false },
    },
  });
  if (!values.once) {
    const app = await NestFactory.createApplicationContext(TrainerModule, { logger: new PinoNestLogger() });
    app.enableShutdownHooks();
    app.get(TrainerRunner).start();
    return;
  }
  if (!values.project) throw new Error('--once needs --project <id>');
  const app = await NestFactory.createApplicationContext(TrainerModule, { logger: new PinoNestLogger(createLogger('warn')) });
  const runner = app.get(TrainerRunner);
  const outcome = await runner.trainOnce(values.project, {
    kind: values.kind === 'linear' ? 'linear' : 'mlp', seed: values.seed ? Number(values.seed) : undefined, promote: !values['no-promote'],
    ...(values['preference-set'] ? { preferenceSetId: values['preference-set'] } : {}),
  });
  process.stdout.write(`${JSON.stringify({ modelId: outcome.model.id, version: outcome.model.version, status: outcome.model.status, metrics: outcome.metrics, baselines: outcome.baselines, pairs: outcome.pairs, promotion: outcome.promotion?.reason ?? null, reproduced: outcome.reproduced, seconds: outcome.seconds })}\n`);
  await app.close();
}

bootstrap().catch((error: Error) => {
  process.stderr.write(`trainer: ${error.message}\n`);
  process.exit(1);
});
