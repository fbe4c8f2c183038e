/*
 * bench:ingest --sdk: the same batches through @flywheel/sdk's Node build (packages/sdk/dist/node.cjs) instead of
 * raw fetch. One SDK client per --clients, each with its own queue file: a send tracks every event of its batch
 * (validation, the queue file) and resolves when the SDK has delivered them all (one request of up to 1000 events,
 * retried by the SDK itself). Its latency is track → delivered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as Sdk from '@flywheel/sdk';
import { ROOT } from '../../support/harness';
import type { SendBatch } from './timed-run';
import type { IngestWorld } from './world';

type CreateNodeClient = (options: Sdk.FlywheelOptions & { queueFile: string }) => Sdk.FlywheelClient;

interface Slot {
  client: Sdk.FlywheelClient;
  waiting: Set<string>;
  done: () => void;
  fail: (error: Error) => void;
  attempts: number;
}

export function sdkSender(world: IngestWorld, clients: number): SendBatch {
  const { createNodeClient } = require(path.join(ROOT, 'packages/sdk/dist/node.cjs')) as { createNodeClient: CreateNodeClient };
  const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-bench-sdk-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const idle: Slot[] = Array.from({ length: clients }, (_, i) => {
    const slot: Slot = { client: null as unknown as Sdk.FlywheelClient, waiting: new Set(), done: () => undefined, fail: () => undefined, attempts: 1 };
    slot.client = createNodeClient({
      endpoint: world.api.url, apiKey: world.project.ingestKey, queueFile: path.join(dir, `queue-${i}.jsonl`),
      batchSize: 1000, flushIntervalMs: 0, maxQueueSize: 100_000,
      onDelivered: (ids) => {
        for (const id of ids) slot.waiting.delete(id);
        if (!slot.waiting.size) slot.done();
      },
      onError: (error) => {
        if (error.code === 'RETRYING') slot.attempts += 1;
        else slot.fail(new Error(`bench:ingest --sdk: ${error.code} ${error.message}`));
      },
    });
    return slot;
  });
  // runTimed runs exactly `clients` loops, each waiting for its send: a slot is always free.
  return async (body) => {
    const slot = idle.pop()!;
    const { events } = JSON.parse(body) as { events: Sdk.TrackEvent[] };
    const t0 = performance.now();
    slot.attempts = 1;
    await new Promise<void>((resolve, reject) => {
      slot.done = resolve;
      slot.fail = reject;
      for (const event of events) slot.waiting.add(slot.client.track(event));
    });
    idle.push(slot);
    return { ms: performance.now() - t0, attempts: slot.attempts };
  };
}
