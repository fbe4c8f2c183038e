/**
 * `npm run demo` runs deploy/demo.sh, which starts the services and then this:
 *   node dist/scripts/demo/main.js --api http://127.0.0.1:8080 --project .infra/demo-project.json [--rounds 6]
 *     [--requests 60] [--shadow-requests 40] [--viewers 5] [--seed 7] [--learning-rate 0.3] [--out artifacts]
 *     [--kafka-brokers host:port,…] [--topic-prefix p]
 * (or --ingest-key and --secret-key instead of --project, a file holding `flywheel project create --json`).
 * Prints the per-round table on stdout, progress on stderr, and writes <out>/demo.html and <out>/demo.json.
 * Kafka settings come from the one configuration (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX); the flags override them.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@flywheel/config';
import { renderTable } from './demo-report';
import { runDemo } from './run-demo';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:8080' },
    project: { type: 'string' },
    'ingest-key': { type: 'string' },
    'secret-key': { type: 'string' },
    rounds: { type: 'string' },
    requests: { type: 'string' },
    'shadow-requests': { type: 'string' },
    viewers: { type: 'string' },
    seed: { type: 'string' },
    'learning-rate': { type: 'string' },
    out: { type: 'string', default: 'artifacts' },
    'kafka-brokers': { type: 'string' },
    'topic-prefix': { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

function number(name: keyof typeof values, integer = true): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < 0) fail(`--${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}, got "${String(raw)}"`);
  return value;
}

function keys(): { ingestKey: string; secretKey: string } {
  if (values.project) {
    const created = JSON.parse(readFileSync(values.project, 'utf8')) as { ingestKey?: string; secretKey?: string };
    if (!created.ingestKey || !created.secretKey) fail(`${values.project} has no ingestKey and secretKey (expected the output of \`flywheel project create --json\`)`);
    return { ingestKey: created.ingestKey, secretKey: created.secretKey };
  }
  if (!values['ingest-key'] || !values['secret-key']) fail('give --project <file> or both --ingest-key and --secret-key');
  return { ingestKey: values['ingest-key'], secretKey: values['secret-key'] };
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (values['kafka-brokers']) config.kafka.brokers = values['kafka-brokers'].split(',').map((b) => b.trim()).filter(Boolean);
  if (values['topic-prefix'] !== undefined) config.kafka.topicPrefix = values['topic-prefix'];
  const rounds = number('rounds');
  if (rounds !== undefined && rounds < 1) fail('--rounds must be at least 1');
  const result = await runDemo({
    apiUrl: values.api!, ...keys(), config, outDir: values.out!,
    rounds, requests: number('requests'), shadowRequests: number('shadow-requests'), viewersPerRequest: number('viewers'),
    seed: number('seed'), learningRate: number('learning-rate', false),
  });
  process.stdout.write(`\n${renderTable(result)}\n`);
  if (result.artifacts) process.stdout.write(`chart: ${result.artifacts.html}\ndata:  ${result.artifacts.json}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(1);
});
