import { Controller, Get, Inject, OnApplicationShutdown, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { DataSource } from '@flywheel/database';
import { Admin, createKafka } from '@flywheel/kafka';

const CHECK_TIMEOUT_MS = 2000;

@ApiTags('health')
@Controller('health')
export class HealthController implements OnApplicationShutdown {
  private admin: Admin | null = null;

  constructor(@Inject(FLYWHEEL_CONFIG) private readonly config: FlywheelConfig, private readonly db: DataSource) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Ready when both PostgreSQL and Kafka answer. */
  @Get('ready')
  async ready(@Res() reply: FastifyReply) {
    const [database, kafka] = await Promise.all([
      within(this.db.isInitialized ? this.db.query('SELECT 1') : Promise.reject(new Error('not connected'))),
      within(this.kafkaAdmin().then((admin) => admin.describeCluster())),
    ]);
    const ok = database === 'ok' && kafka === 'ok';
    void reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { database, kafka } });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async kafkaAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = createKafka(this.config, 'api-health').admin({ retry: { retries: 0 } });
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
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
