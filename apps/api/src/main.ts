import 'reflect-metadata';
import { JsonLogger, loadConfigOrExit } from '@flywheel/config';
import { createApiApp } from './app.factory';

async function bootstrap(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = new JsonLogger(config.logLevel);
  const app = await createApiApp(logger);
  await app.listen(config.api.port, config.api.host);
  logger.log(`api_listening ${JSON.stringify({ url: await app.getUrl() })}`, 'Bootstrap');
}

void bootstrap();
