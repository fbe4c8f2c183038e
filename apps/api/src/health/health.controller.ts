import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { DatabaseHealth } from '@flywheel/database';
import { KafkaHealth } from '@flywheel/kafka';
import { Public } from '../openapi/openapi.decorators';
import { LiveDto, ReadyDto } from './health.responses';

const CHECK_TIMEOUT_MS = 2000;

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(private readonly database: DatabaseHealth, private readonly kafka: KafkaHealth) {}

  @Get('live')
  @ApiOkResponse({ type: LiveDto })
  live() {
    return { status: 'ok' };
  }

  /** Ready when both PostgreSQL and Kafka answer. */
  @Get('ready')
  @ApiOkResponse({ type: ReadyDto, description: 'PostgreSQL and Kafka answer' })
  @ApiResponse({ status: 503, type: ReadyDto, description: 'PostgreSQL or Kafka does not answer (or not within 2 s)' })
  async ready(@Res() reply: FastifyReply) {
    const [database, kafka] = await Promise.all([
      within(this.database.ping()),
      within(this.kafka.ping()),
    ]);
    const ok = database === 'ok' && kafka === 'ok';
    void reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { database, kafka } });
  }
}

async function within(check: Promise<unknown>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('timeout'), CHECK_TIMEOUT_MS); });
  try {
    return await Promise.race([check.then(() => 'ok', (e: Error) => `down: ${e.message}`), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
