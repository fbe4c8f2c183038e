import 'reflect-metadata';
import { openApiPreview } from './openapi/openapi-preview';

/**
 * Prints the api's OpenAPI document, the one served at /docs/openapi.json, without PostgreSQL or Kafka:
 * `node dist/apps/api/src/openapi.js > openapi.json` (README "OpenAPI and a typed client").
 */
openApiPreview().then(({ document }) => {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}, (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
