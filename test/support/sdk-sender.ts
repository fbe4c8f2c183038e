/**
 * A Node app that sends feedback through the built @flywheel/sdk (packages/sdk/dist/node.cjs), for the tests that
 * kill it mid-queue. Tracks `--track` events `<tag>-<i>` in chunks of `--chunk` every `--every-ms`, then waits until
 * its queue is empty and exits. Prints one line per fact: `delivered <n>`, `retrying <pending>`, `tracked <n>`,
 * `drained`.
 */
import * as path from 'node:path';
import type * as Sdk from '@flywheel/sdk';
import { ROOT } from './harness';

const { createNodeClient } = require(path.join(ROOT, 'packages/sdk/dist/node.cjs')) as {
  createNodeClient: (options: Sdk.FlywheelOptions & { queueFile: string }) => Sdk.FlywheelClient;
};

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

async function main(): Promise<void> {
  const total = Number(arg('track', '0'));
  const chunk = Number(arg('chunk', '50'));
  const everyMs = Number(arg('every-ms', '100'));
  const tag = arg('tag', 'sdk');
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const client = createNodeClient({
    endpoint: arg('endpoint'), apiKey: arg('key'), queueFile: arg('queue'), batchSize: Number(arg('batch', '50')),
    flushIntervalMs: 50, baseRetryDelayMs: 100, maxRetryDelayMs: 1000,
    onDelivered: (ids) => say(`delivered ${ids.length}`),
    onError: (error) => say(error.code === 'RETRYING' ? `retrying ${client.pending()}` : `error ${error.code} ${error.message}`),
  });
  say(`loaded ${client.pending()}`);
  for (let i = 0; i < total; i += chunk) {
    for (let j = i; j < Math.min(total, i + chunk); j++) {
      client.track({ eventId: `${tag}-${j}`, type: 'play', videoId: `v${j % 7}`, userId: `u${j % 11}`, occurredAt: '2026-11-01T12:00:00Z' });
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  say(`tracked ${total}`);
  while (client.pending() > 0) {
    await client.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  say('drained');
  client.close();
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
