import type { FlywheelConfig } from '@flywheel/config';
import { TailedMessage, TopicTail, tailTopic } from '@flywheel/kafka';

/** `kind: "pair"` on flywheel.preferences.v1 (the fields the generator trainer reads). */
export interface PreferencePairMessage {
  message_id: string;
  set_id: string;
  kind: 'pair';
  chosen_video_id: string;
  rejected_video_id: string;
  prompt: string;
  request_id: string | null;
  model_version: string | null;
  margin: number;
  weight: number;
  tie: boolean;
  scope: string;
  group_key: string;
  split: string;
  source: 'observed' | 'reward_model';
}

export interface PreferenceRankingMessage {
  message_id: string;
  set_id: string;
  kind: 'ranking';
  request_id: string;
  source: string;
  candidates: { video_id: string; score: number; n: number }[];
}

export interface PreferenceCompleteMessage {
  message_id: string;
  set_id: string;
  kind: 'complete';
  /** Pair and ranking messages published before this marker. */
  messages: number;
  manifest: Record<string, unknown>;
}

export interface ConsumedSet {
  setId: string;
  pairs: PreferencePairMessage[];
  rankings: PreferenceRankingMessage[];
  complete: PreferenceCompleteMessage;
  /** Messages seen again (a re-publication, a redelivery) and skipped by message_id. */
  duplicates: number;
}

type Decoded =
  | { ok: true; value: PreferencePairMessage | PreferenceRankingMessage | PreferenceCompleteMessage }
  | { ok: false; reason: string };

/** Never throws: a message the generator cannot use is counted, not fatal. */
export function decodePreferenceMessage(raw: Buffer | null): Decoded {
  if (!raw) return { ok: false, reason: 'empty value' };
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || typeof v.set_id !== 'string' || typeof v.message_id !== 'string') return { ok: false, reason: 'no set_id or message_id' };
  if (v.kind === 'pair') {
    if (typeof v.chosen_video_id !== 'string' || typeof v.rejected_video_id !== 'string' || typeof v.weight !== 'number') return { ok: false, reason: 'pair without video ids or weight' };
    return { ok: true, value: v as unknown as PreferencePairMessage };
  }
  if (v.kind === 'ranking') return Array.isArray(v.candidates) ? { ok: true, value: v as unknown as PreferenceRankingMessage } : { ok: false, reason: 'ranking without candidates' };
  if (v.kind === 'complete') return typeof v.messages === 'number' ? { ok: true, value: v as unknown as PreferenceCompleteMessage } : { ok: false, reason: 'marker without a message count' };
  return { ok: false, reason: `unknown kind ${String(v.kind)}` };
}

interface Pending {
  ids: Set<string>;
  pairs: PreferencePairMessage[];
  rankings: PreferenceRankingMessage[];
  complete: PreferenceCompleteMessage | null;
  duplicates: number;
}

/**
 * How the generator pipeline receives its training data: a consumer of flywheel.preferences.v1 (libs/kafka
 * `tailTopic`) that keeps the messages of the sets it is told about. A set is complete when its marker has arrived
 * and so have the `messages` pairs and rankings the marker counts — the marker is keyed by set id and may sit on
 * another partition than the pairs, so arriving first proves nothing. The consumer starts at the topic's end as it
 * was at start-up (seeked after joining), so older publications on a shared broker are never read.
 */
export class PreferenceSetConsumer {
  private readonly sets = new Map<string, Pending>();
  private readonly waiters = new Map<string, () => void>();
  undecodable = 0;

  private tail: TopicTail | null = null;

  private constructor(readonly topic: string) {}

  static async start(config: FlywheelConfig, topic: string, groupId: string): Promise<PreferenceSetConsumer> {
    const self = new PreferenceSetConsumer(topic);
    self.tail = await tailTopic(config, 'demo-generator', topic, groupId, (message) => self.receive(message));
    return self;
  }

  /** Starts keeping the set's messages: call it before the set is published. */
  expect(setId: string): void {
    this.pending(setId);
  }

  /** Resolves with the set's messages once all of them have arrived (the set must have been expected). */
  waitFor(setId: string, timeoutMs: number): Promise<ConsumedSet> {
    if (!this.sets.has(setId)) return Promise.reject(new Error(`preference set ${setId} was not expected before it was published`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(setId);
        const p = this.pending(setId);
        reject(new Error(`timed out after ${timeoutMs} ms reading preference set ${setId} from ${this.topic}: ${p.pairs.length + p.rankings.length} messages, marker ${p.complete ? `says ${p.complete.messages}` : 'not seen'}`));
      }, timeoutMs);
      const check = () => {
        const done = this.done(setId);
        if (!done) return;
        clearTimeout(timer);
        this.waiters.delete(setId);
        this.sets.delete(setId);
        resolve(done);
      };
      this.waiters.set(setId, check);
      check();
    });
  }

  async stop(): Promise<void> {
    await this.tail?.stop();
  }

  private receive(message: TailedMessage): void {
    const setId = message.headers['flywheel-set-id'] ?? null;
    if (setId !== null && !this.sets.has(setId)) return; // another set: not ours
    const decoded = decodePreferenceMessage(message.value);
    if (!decoded.ok) {
      this.undecodable++;
      return;
    }
    const m = decoded.value;
    const p = this.sets.get(m.set_id);
    if (!p) return;
    if (p.ids.has(m.message_id)) {
      p.duplicates++;
      return;
    }
    p.ids.add(m.message_id);
    if (m.kind === 'pair') p.pairs.push(m);
    else if (m.kind === 'ranking') p.rankings.push(m);
    else p.complete = m;
    this.waiters.get(m.set_id)?.();
  }

  private pending(setId: string): Pending {
    let p = this.sets.get(setId);
    if (!p) this.sets.set(setId, (p = { ids: new Set(), pairs: [], rankings: [], complete: null, duplicates: 0 }));
    return p;
  }

  private done(setId: string): ConsumedSet | null {
    const p = this.pending(setId);
    if (!p.complete || p.pairs.length + p.rankings.length < p.complete.messages) return null;
    return { setId, pairs: p.pairs, rankings: p.rankings, complete: p.complete, duplicates: p.duplicates };
  }
}
