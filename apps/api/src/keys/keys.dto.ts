import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, Matches, Max, Min, ValidateNested } from 'class-validator';
import { ORIGIN_PATTERN } from '@flywheel/config';
import { KeyKind } from '@flywheel/database';

export const MAX_OVERLAP_SECONDS = 30 * 24 * 3600;

export class KeyCreateDto {
  @ApiProperty({ enum: ['ingest', 'secret'] }) @IsIn(['ingest', 'secret']) kind: KeyKind;
}

export class KeyRotateDto {
  @ApiPropertyOptional({ description: 'How long the old key keeps working (seconds, default 86400, at most 30 days)' })
  @IsOptional() @IsInt() @Min(0) @Max(MAX_OVERLAP_SECONDS)
  overlapSeconds?: number;
}

const ORIGIN_MESSAGE = 'each value in allowedOrigins must be an origin like https://editor.example.com (no path, no trailing slash), or *';

export class ProjectOriginsDto {
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Browser origins allowed on the ingest routes; null: the api default' })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @Matches(ORIGIN_PATTERN, { each: true, message: ORIGIN_MESSAGE })
  allowedOrigins?: string[] | null;
}

export class BucketLimitDto {
  @ApiProperty({ description: 'Tokens per second (an ingest batch costs one per item); 0: unlimited' })
  @IsInt() @Min(0) @Max(10_000_000) perSecond: number;
  @ApiProperty({ description: 'Bucket size: the largest burst' }) @IsInt() @Min(1) @Max(100_000_000) burst: number;
}

export class RateLimitsDto {
  @ApiPropertyOptional({ type: BucketLimitDto }) @IsOptional() @ValidateNested() @Type(() => BucketLimitDto) ingest?: BucketLimitDto;
  @ApiPropertyOptional({ type: BucketLimitDto }) @IsOptional() @ValidateNested() @Type(() => BucketLimitDto) secret?: BucketLimitDto;
}
