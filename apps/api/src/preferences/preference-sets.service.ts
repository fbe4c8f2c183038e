import { Readable } from 'node:stream';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { topicNames } from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { PreferenceSetRow, PreferenceSetsRepository } from '@flywheel/database';
import { KafkaPublisher, createKafka } from '@flywheel/kafka';
import { PreferenceSetRequest, encodeStoredSet, pairOptionsOf, publishPreferenceSet } from '@flywheel/preference-sets';
import { EXPORT_FORMATS, ExportFormat } from '@flywheel/preferences';
import { FlywheelError } from '@flywheel/errors';

/**
 * Preference-set snapshots. Creating one queues its build for the trainer (the request answers 202 at once with
 * status `queued`; poll the set until `ready`): building pairs is CPU work that would stall this process's event
 * loop, and a queued build survives a crash. Exports stream from the stored rows in constant memory, so a set
 * always exports the same bytes.
 */
@Injectable()
export class PreferenceSetsService implements OnApplicationShutdown {
  private readonly logger = new Logger(PreferenceSetsService.name);
  private readonly publisher: KafkaPublisher;
  private readonly topic: string;

  constructor(
    @Inject(FLYWHEEL_CONFIG) config: FlywheelConfig,
    private readonly sets: PreferenceSetsRepository,
  ) {
    this.publisher = new KafkaPublisher(createKafka(config, 'api-preferences'), config.kafka.sendTimeoutMs);
    this.topic = topicNames(config.kafka.topicPrefix).preferences;
  }

  async create(projectId: string, request: PreferenceSetRequest): Promise<PreferenceSetRow> {
    pairOptionsOf(request); // what the pair builder would refuse is a 400 now, not a failed build later
    const set = await this.sets.create(projectId, request);
    this.logger.log({ msg: 'preference_set_queued', setId: set.id });
    return set;
  }

  async find(projectId: string, id: string): Promise<PreferenceSetRow> {
    const set = await this.sets.find(projectId, id);
    if (!set) throw new FlywheelError('NOT_FOUND', `no preference set ${id} in this project`);
    return set;
  }

  async export(projectId: string, id: string, format: ExportFormat): Promise<{ stream: Readable; contentType: string; filename: string }> {
    const set = await this.ready(projectId, id);
    const info = EXPORT_FORMATS[format];
    return { stream: Readable.from(encodeStoredSet(this.sets, set.id, format)), contentType: info.contentType, filename: `preference-set-${set.id}.${info.extension}` };
  }

  async publish(projectId: string, id: string) {
    const set = await this.ready(projectId, id);
    const result = await publishPreferenceSet(this.sets, this.publisher, this.topic, set);
    return { ...result, topic: this.topic, setId: set.id };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect();
  }

  private async ready(projectId: string, id: string): Promise<PreferenceSetRow> {
    const set = await this.find(projectId, id);
    if (set.status !== 'ready') {
      throw new FlywheelError('CONFLICT', `preference set ${id} is ${set.status}${set.error ? `: ${set.error}` : ''}; wait until it is ready`);
    }
    return set;
  }
}
