/** `npm run migrate`: create the database if missing and apply pending migrations. */
import { loadConfigOrExit } from '@flywheel/config';
import { migrate } from './data-source';

const config = loadConfigOrExit();
migrate(config.database)
  .then((applied) => {
    process.stdout.write(applied.length ? `migrated ${config.database.name}: ${applied.join(', ')}\n` : `${config.database.name} is up to date\n`);
  })
  .catch((error: Error) => {
    process.stderr.write(`migration failed: ${error.message}\n`);
    process.exit(1);
  });
