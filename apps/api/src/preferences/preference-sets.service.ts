import { Readable } from 'node:stream';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { topicNames } from '@flywheel/contracts';
import { FLYWHEEL_CONFIG, FlywheelConfig } from '@flywheel/config';
import { PreferencePublicationsRepository, PreferenceSetRow, PreferenceSetsRepository, PublicationRow } from '@flywheel/database';
import { ExportCounts, ExportOptions, PreferenceSetRequest, encodeStoredSet, exportCounts, pairOptionsOf } from '@flywheel/preference-sets';
import { EXPORT_FORMATS, ExportFormat } from '@flywheel/preferences';
import { FlywheelError } from '@flywheel/errors';

/**
 * Preference-set snapshots. Creating one queues its build for the trainer (the request answers 202 at once with
 * status `queued`; poll the set until `ready`): building pairs is CPU work that would stall this process's event
 * loop, and a queued build survives a crash. Exports stream from the stored rows in constant memory, so a set
 * always exports the same bytes. Publishing is queued for the trainer as well (202 with the publication; poll it
 * until `done`): a million-pair set would hold a request for minutes, and a queued publication resumes after a crash.
 */
@Injectable()
export class PreferenceSetsService {
  private readonly logger = new Logger(PreferenceSetsService.name);
  private readonly topic: string;

  constructor(
    @Inject(FLYWHEEL_CONFIG) config: FlywheelConfig,
    private readonly sets: PreferenceSetsRepository,
    private readonly publications: PreferencePublicationsRepository,
  ) {
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

  /**
   * A ready set in one format, with what the response headers say about it: the set, its content hash, how to fetch
   * the same bytes again, and what the export holds and leaves out (counted before the bytes stream).
   */
  async export(projectId: string, id: string, format: ExportFormat, options: ExportOptions): Promise<ExportView> {
    const set = await this.ready(projectId, id);
    // Recorded before the first byte: a user's deletion rebuilds the sets that never left, and lists this one.
    if (!(await this.sets.markExported(set.id))) throw new FlywheelError('CONFLICT', `preference set ${id} is no longer ready; try again when it is`);
    const info = EXPORT_FORMATS[format];
    const stream = encodeStoredSet(this.sets, set.id, format, options); // checks the options before anything streams
    const counts = await exportCounts(this.sets, set.id, format, options);
    const query = exportQuery(format, options);
    const suffix = options.split ? `${options.split}.${info.extension}` : info.extension;
    return {
      stream: Readable.from(stream), contentType: info.contentType, filename: `preference-set-${set.id}.${suffix}`, counts,
      setId: set.id, contentSha256: set.contentSha256!, source: `/v1/preference-sets/${set.id}/export?${query}`,
      cli: `flywheel sets export ${set.id} ${exportCliFlags(format, options)}`,
    };
  }

  /** Queues the set's publication (or answers the unfinished one; a failed one is queued again, keeping its progress). */
  async publish(projectId: string, id: string): Promise<PublicationView> {
    const set = await this.ready(projectId, id);
    const publication = await this.publications.request(set.id, this.topic);
    this.logger.log({ msg: 'preference_set_publication_queued', setId: set.id, publicationId: publication.id, status: publication.status });
    return publicationView(publication);
  }

  async publication(projectId: string, id: string, publicationId: string): Promise<PublicationView> {
    const set = await this.find(projectId, id);
    const publication = await this.publications.find(set.id, publicationId);
    if (!publication) throw new FlywheelError('NOT_FOUND', `no publication ${publicationId} of preference set ${id}`);
    return publicationView(publication);
  }

  async publicationList(projectId: string, id: string): Promise<PublicationView[]> {
    const set = await this.find(projectId, id);
    return (await this.publications.list(set.id)).map(publicationView);
  }

  private async ready(projectId: string, id: string): Promise<PreferenceSetRow> {
    const set = await this.find(projectId, id);
    if (set.status !== 'ready') {
      throw new FlywheelError('CONFLICT', `preference set ${id} is ${set.status}${set.error ? `: ${set.error}` : ''}; wait until it is ready`);
    }
    return set;
  }
}

export interface ExportView {
  stream: Readable;
  contentType: string;
  filename: string;
  counts: ExportCounts;
  setId: string;
  contentSha256: string;
  /** The path (and query) that gives these bytes again. */
  source: string;
  /** The CLI command that gives these bytes again. */
  cli: string;
}

/** The export's query in a fixed order, without defaults: the same export always names the same URL. */
export function exportQuery(format: ExportFormat, o: ExportOptions): string {
  const q = new URLSearchParams({ format });
  if (o.split) q.set('split', o.split);
  if (o.pathTemplate !== undefined) q.set('pathTemplate', o.pathTemplate);
  if (o.overall) q.set('overall', 'true');
  if (o.seed !== undefined) q.set('seed', String(o.seed));
  if (o.groupBy) q.set('groupBy', o.groupBy);
  return q.toString().replace(/%7B/g, '{').replace(/%7D/g, '}');
}

function exportCliFlags(format: ExportFormat, o: ExportOptions): string {
  const quote = (s: string) => (/^[\w./{}:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const flags = [`--format ${format}`];
  if (o.split) flags.push(`--split ${o.split}`);
  if (o.pathTemplate !== undefined) flags.push(`--path-template ${quote(o.pathTemplate)}`);
  if (o.overall) flags.push('--overall');
  if (o.seed !== undefined) flags.push(`--seed ${o.seed}`);
  if (o.groupBy) flags.push(`--group-by ${o.groupBy}`);
  return flags.join(' ');
}

/** A publication as the API shows it: `messages` counts what Kafka acknowledged so far (all of them once `done`). */
export interface PublicationView {
  publicationId: string;
  setId: string;
  topic: string;
  status: PublicationRow['status'];
  messages: number;
  attempts: number;
  error: string | null;
  createdAt: Date;
  publishedAt: Date | null;
}

function publicationView(p: PublicationRow): PublicationView {
  return {
    publicationId: p.id, setId: p.setId, topic: p.topic, status: p.status, messages: p.messages, attempts: p.attempts,
    error: p.error, createdAt: p.createdAt, publishedAt: p.publishedAt,
  };
}
