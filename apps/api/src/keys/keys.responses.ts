import { ApiProperty } from '@nestjs/swagger';
import { RateLimitsDto } from './keys.dto';

/** What the OpenAPI document says the project and key routes answer (the shapes of keys.service.ts and api-keys.ts). */
export class ProjectDto {
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: "Length of the generations' feature vectors" }) featureDim: number;
  @ApiProperty({ type: [String], description: 'Rating dimensions a rate event may name' }) ratingDimensions: string[];
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: [String], nullable: true, description: "Browser origins allowed on the ingest routes; null: the api's default" })
  allowedOrigins: string[] | null;
  @ApiProperty({ type: RateLimitsDto, nullable: true, description: "The project's own token buckets; null: the api's defaults" })
  rateLimits: RateLimitsDto | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Set when the project was deleted' }) deletedAt: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Days raw events are kept; null: forever' }) eventRetentionDays: number | null;
}

export class ProjectInfoDto extends ProjectDto {
  @ApiProperty({ format: 'uuid', description: 'The project id again (as projectId)' }) id: string;
  @ApiProperty({ description: 'Events stored for the project' }) events: number;
}

export class ProjectListDto {
  @ApiProperty({ type: [ProjectDto] }) projects: ProjectDto[];
}

export class CreatedProjectDto {
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty() name: string;
  @ApiProperty() featureDim: number;
  @ApiProperty({ type: [String] }) ratingDimensions: string[];
  @ApiProperty({ example: 'fw_ingest_…', description: 'Shown once: only its hash is stored' }) ingestKey: string;
  @ApiProperty({ example: 'fw_secret_…', description: 'Shown once: only its hash is stored' }) secretKey: string;
}

export class KeyDto {
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ enum: ['ingest', 'secret'] }) kind: 'ingest' | 'secret';
  @ApiProperty({ example: 'fw_secret_a1b2c3', description: 'The kind prefix and the first 6 random characters' }) prefix: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Approximate: recorded at most once per key-cache TTL' })
  lastUsedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'The old key of a rotation stops working then' })
  expiresAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
  @ApiProperty({ description: 'Neither revoked nor expired' }) active: boolean;

}

export class KeyListDto {
  @ApiProperty({ type: [KeyDto] }) keys: KeyDto[];
}

export class IssuedKeyDto {
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ description: 'Shown once: only its hash is stored' }) key: string;
  @ApiProperty({ enum: ['ingest', 'secret'] }) kind: 'ingest' | 'secret';
  @ApiProperty() prefix: string;
}

export class ReplacedKeyDto {
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the old key stops working' }) expiresAt: string | null;
}

export class RotatedKeyDto extends IssuedKeyDto {
  @ApiProperty({ type: ReplacedKeyDto }) replaces: ReplacedKeyDto;
}

export class KeyRevokedDto {
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ enum: [true] }) revoked: true;
}
