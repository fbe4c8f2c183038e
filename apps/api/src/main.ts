import 'reflect-metadata';
import { loadConfigOrExit, loggerFor } from '@flywheel/config';
import { createApiApp } from './app.factory';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createApiApp();
  await app.listen(config.api.port, config.api.host);
  loggerFor('Bootstrap').info({ url: await app.getUrl() }, 'api_listening');
}

void bootstrap();
