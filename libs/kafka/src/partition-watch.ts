import { describeFailure } from '@flywheel/errors';

export interface PartitionWait {
  topic: string;
  partition: number;
  /** How long the partition has had messages waiting without its offset moving. */
  seconds: number;
  /** Messages behind the high watermark when last known. */
  lag: number;
  /** Why the last attempt failed, while it has not advanced since. */
  lastError: string | null;
}

interface PartitionState {
  topic: string;
  partition: number;
  busy: boolean;
  lag: number;
  since: number;
  lastError: string | null;
}

/**
 * When each assigned partition last advanced. A partition waits while a batch of it is being processed or it had
 * lag after its last batch; the wait starts when it last advanced, or when messages arrived after it was idle.
 * A partition that waits longer than the consumer's `stallAfterMs` is stalled (/health/ready, a Prometheus gauge).
 */
export class PartitionWatch {
  private readonly partitions = new Map<string, PartitionState>();

  constructor(private readonly now: () => number = Date.now) {}

  batchStarted(topic: string, partition: number): void {
    const state = this.state(topic, partition);
    if (!state.busy && state.lag === 0) state.since = this.now();
    state.busy = true;
  }

  advanced(topic: string, partition: number): void {
    const state = this.state(topic, partition);
    state.since = this.now();
    state.lastError = null;
  }

  failed(topic: string, partition: number, error: unknown): void {
    this.state(topic, partition).lastError = describeFailure(error);
  }

  batchEnded(topic: string, partition: number, lag: number): void {
    const state = this.state(topic, partition);
    state.busy = false;
    state.lag = lag;
  }

  /** After a rebalance: forget the partitions this consumer no longer owns. */
  assigned(assignment: Record<string, number[]>): void {
    for (const [key, state] of this.partitions) {
      if (!(assignment[state.topic] ?? []).includes(state.partition)) this.partitions.delete(key);
    }
  }

  /** Every known partition, with how long it has been waiting (0 when nothing waits). */
  waits(): PartitionWait[] {
    const now = this.now();
    return [...this.partitions.values()].map((s) => ({
      topic: s.topic, partition: s.partition, lag: s.lag, lastError: s.lastError,
      seconds: s.busy || s.lag > 0 ? Math.max(0, now - s.since) / 1000 : 0,
    }));
  }

  stalled(stallAfterMs: number): PartitionWait[] {
    return this.waits().filter((w) => w.seconds * 1000 >= stallAfterMs);
  }

  private state(topic: string, partition: number): PartitionState {
    const key = `${topic}:${partition}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = { topic, partition, busy: false, lag: 0, since: this.now(), lastError: null };
      this.partitions.set(key, state);
    }
    return state;
  }
}
