import {
  ClaimedPublication, PreferencePublicationsRepository, PreferenceSetRow, PreferenceSetsRepository, PublicationProgress,
} from '@flywheel/database';
import type { IHeaders, OutgoingMessage } from '@flywheel/kafka';
import { RankedRequest, canonicalPairLine, rankedLine } from '@flywheel/preferences';
import { LostClaimError, PREFERENCE_MESSAGE_VERSION } from './preference-sets';

/** Messages sent to Kafka at once; the progress recorded after each batch is acknowledged bounds what a resumed publication sends again. */
export const PUBLICATION_BATCH = 1000;

/** What publishing needs of Kafka: a send that resolves once every message is acknowledged. */
export interface MessageSink {
  send(topic: string, messages: OutgoingMessage[]): Promise<unknown>;
}

export interface PublicationDeps {
  sets: PreferenceSetsRepository;
  publications: PreferencePublicationsRepository;
}

/**
 * Publishes a ready set to the publication's topic (`flywheel.preferences.v1`): one message per pair and per ranked
 * list (keyed by request id, or the pair's group when it spans requests), then a completion marker carrying the
 * manifest. Message ids are `<setId>:pair:<seq>` / `<setId>:ranking:<seq>` / `<setId>:complete`, so whatever is sent
 * again carries the same id and a consumer deduplicates on it.
 *
 * Resumable: it starts after the last pair and ranking the publication recorded as acknowledged, and records its
 * progress in PostgreSQL after Kafka acknowledged each batch. A trainer killed mid-publication therefore leaves at
 * most the batch in flight to be sent again by the one that takes over. Every progress write is checked against the
 * claim (`job.attempts`): a trainer that lost the publication stops with LostClaimError. Returns the messages sent
 * over the whole publication, marker included.
 */
export async function publishPreferenceSet(
  deps: PublicationDeps, sink: MessageSink, job: ClaimedPublication, set: PreferenceSetRow, batchSize = PUBLICATION_BATCH,
): Promise<number> {
  const headers = (kind: string, id: string): IHeaders => ({
    'flywheel-set-id': set.id, 'flywheel-format': PREFERENCE_MESSAGE_VERSION, 'flywheel-kind': kind, 'flywheel-message-id': id,
  });
  const acked: PublicationProgress = { pairSeqAcked: job.pairSeqAcked, rankingSeqAcked: job.rankingSeqAcked, messages: job.messages };
  let batch: OutgoingMessage[] = [];
  let pending = { ...acked };
  const lost = () => new LostClaimError(`publication ${job.id} of preference set ${set.id} was taken over before attempt ${job.attempts} finished`);
  const flush = async () => {
    if (batch.length === 0) return;
    await sink.send(job.topic, batch);
    pending.messages += batch.length;
    batch = [];
    Object.assign(acked, pending);
    if (!(await deps.publications.recordProgress(job.id, job.attempts, acked))) throw lost();
  };

  // A pair's message body is its pairs-jsonl line, from the row as pairPages parses it (copyTextRows →
  // pairFromCopyFields). canonicalPairLine is not a second encoding: libs/preferences' copy-export.spec.ts checks on
  // 3,000 awkward rows that the export's byte encoder (encodePairLinesFromCopy) writes exactly these lines. The
  // publication keeps the row path because each message needs the row's key and seq besides its line.
  for await (const { seq, ...row } of deps.sets.pairs(set.id, acked.pairSeqAcked)) {
    const id = `${set.id}:pair:${seq}`;
    batch.push({ key: row.requestId ?? row.groupKey, value: `{"message_id":${JSON.stringify(id)},"set_id":"${set.id}","kind":"pair",${canonicalPairLine(row).slice(1).trimEnd()}`, headers: headers('pair', id) });
    pending = { ...pending, pairSeqAcked: seq };
    if (batch.length >= batchSize) await flush();
  }
  for await (const { seq, ...ranking } of deps.sets.rankings(set.id, acked.rankingSeqAcked)) {
    const id = `${set.id}:ranking:${seq}`;
    batch.push({ key: ranking.requestId, value: `{"message_id":${JSON.stringify(id)},"set_id":"${set.id}","kind":"ranking",${rankedLine(ranking as RankedRequest).slice(1).trimEnd()}`, headers: headers('ranking', id) });
    pending = { ...pending, rankingSeqAcked: seq };
    if (batch.length >= batchSize) await flush();
  }
  await flush();

  const markerId = `${set.id}:complete`;
  const total = acked.messages + 1;
  await sink.send(job.topic, [{
    key: set.id, headers: headers('complete', markerId),
    value: JSON.stringify({ message_id: markerId, set_id: set.id, kind: 'complete', messages: acked.messages, manifest: set.manifest }),
  }]);
  if (!(await deps.publications.finish(job.id, job.attempts, total))) throw lost();
  return total;
}
