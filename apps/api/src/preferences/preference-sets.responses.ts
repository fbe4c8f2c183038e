import { ApiProperty } from '@nestjs/swagger';
import { EXPORT_FORMATS } from '@flywheel/preferences';

export class PreferenceSetDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ enum: ['queued', 'building', 'ready', 'failed'], description: 'queued → building (a trainer holds it) → ready, or failed with `error`' })
  status: 'queued' | 'building' | 'ready' | 'failed';
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The request it was built from' }) filters: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'Counts, splits and options of the built set; null until ready' })
  manifest: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true, description: 'Content hash of the stored rows; null until ready' }) contentSha256: string | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ description: 'Builds started so far' }) attempts: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When its first export started: from then on it has left the service' })
  exportedAt: string | null;
  @ApiProperty({ type: [String], description: 'User deletions (job ids) whose data it holds: it had already left the service when they ran' })
  containingDeletions: string[];
}

export class PublicationDto {
  @ApiProperty({ format: 'uuid' }) publicationId: string;
  @ApiProperty({ format: 'uuid' }) setId: string;
  @ApiProperty({ example: 'flywheel.preferences.v1' }) topic: string;
  @ApiProperty({ enum: ['queued', 'publishing', 'done', 'failed'] }) status: string;
  @ApiProperty({ description: 'Messages Kafka acknowledged so far (all of them once done)' }) messages: number;
  @ApiProperty() attempts: number;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) publishedAt: string | null;
}

export class GeneratorVersionViewDto {
  @ApiProperty() model: string;
  @ApiProperty() modelVersion: string;
  @ApiProperty({ type: String, nullable: true }) parentVersion: string | null;
  @ApiProperty({ type: [String], description: 'Preference sets it was trained on' }) trainedOn: string[];
  @ApiProperty({ type: String, nullable: true }) notes: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

/** The export's media types, one per format of EXPORT_FORMATS (so a new format is documented with it). */
export function exportContent(): Record<string, { schema: { type: 'string'; format?: 'binary' } }> {
  const content: Record<string, { schema: { type: 'string'; format?: 'binary' } }> = {};
  for (const { contentType } of Object.values(EXPORT_FORMATS)) {
    content[contentType] = { schema: contentType.startsWith('text/') || contentType.includes('ndjson') ? { type: 'string' } : { type: 'string', format: 'binary' } };
  }
  return content;
}
