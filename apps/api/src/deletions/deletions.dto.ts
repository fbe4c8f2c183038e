import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LeftSetDto {
  @ApiProperty({ format: 'uuid' }) setId: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When its first export started' }) exportedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When its last publication finished' }) publishedAt: string | null;
}

/** What a finished deletion removed: a user's (kind `user`) or a project's (kind `project`, `removed` only). */
export class DeletionResultDto {
  @ApiPropertyOptional({ format: 'date-time', description: "From then on the worker drops the user's events that happened or reached the api before it" })
  tombstonedAt?: string;
  @ApiPropertyOptional({ description: 'Feedback events removed' }) events?: number;
  @ApiPropertyOptional({ description: 'Per-(video, user) signal rows removed' }) signalRows?: number;
  @ApiPropertyOptional({ description: 'Hourly rollup rows corrected' }) rollupRows?: number;
  @ApiPropertyOptional({ type: [String], description: 'Preference sets that never left the service, queued to be rebuilt from the remaining data' })
  setsRebuilt?: string[];
  @ApiPropertyOptional({ type: [LeftSetDto], description: 'Preference sets already exported or published: not recallable, marked as containing deleted data' })
  setsAlreadyLeft?: LeftSetDto[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'integer' }, description: 'Project deletion: rows removed per table' })
  removed?: Record<string, number>;
}

export class DeletionViewDto {
  @ApiProperty({ format: 'uuid' }) jobId: string;
  @ApiProperty({ enum: ['user', 'project'] }) kind: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ enum: ['queued', 'running', 'done', 'failed'] }) status: string;
  @ApiProperty({ description: '`key:<api key id>` or `admin`' }) requestedBy: string;
  @ApiProperty({ format: 'date-time' }) requestedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: DeletionResultDto, nullable: true }) result: DeletionResultDto | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
}

export class ProjectDeletionDto extends DeletionViewDto {
  @ApiProperty({ enum: [true] }) deleted: boolean;
}

export class DeletionListDto {
  @ApiProperty({ type: [DeletionViewDto], description: 'Newest first, at most 100' }) deletions: DeletionViewDto[];
}
