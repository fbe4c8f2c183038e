import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import { Transform, TransformFnParams } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsString, IsUUID, Length, Matches, Max, Min,
} from 'class-validator';
import { EXPORT_FORMAT_NAMES, ExportFormat, MAX_PATH_TEMPLATE_LENGTH } from '@flywheel/preferences';

/** A query parameter given twice where one value is expected is an error, not "the last one wins". */
function single({ value }: TransformFnParams): unknown {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : value) : value;
}
const integer = (params: TransformFnParams): unknown => {
  const value = single(params);
  return typeof value === 'string' && /^\d{1,9}$/.test(value.trim()) ? Number(value) : value;
};
const boolean = (params: TransformFnParams): unknown => {
  const value = single(params);
  return value === 'true' ? true : value === 'false' ? false : value;
};

export class PreferenceSetCreateDto {
  @ApiPropertyOptional({ description: 'Observations from (ISO-8601)' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'Observations before (ISO-8601)' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) modelVersions?: string[];
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) categories?: string[];
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) segments?: string[];
  @ApiPropertyOptional({ enum: ['request', 'prompt', 'session'], isArray: true, default: ['request', 'prompt'] })
  @IsOptional() @IsArray() @IsIn(['request', 'prompt', 'session'], { each: true }) scopes?: ('request' | 'prompt' | 'session')[];
  @ApiPropertyOptional({ default: 0.05 }) @IsOptional() @IsNumber() @Min(0) @Max(2) minMargin?: number;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() includeTies?: boolean;
  @ApiPropertyOptional({ default: 1 }) @IsOptional() @IsInt() @Min(0) minEvidence?: number;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) maxPairsPerGroup?: number;
  @ApiPropertyOptional({ description: 'Add reward-model-ranked data for requests without enough observed evidence' })
  @IsOptional() @IsBoolean() rewardModel?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(1) @Max(100_000_000) maxPairs?: number;
  @ApiPropertyOptional({ enum: ['train', 'validation', 'test'] }) @IsOptional() @IsIn(['train', 'validation', 'test']) split?: 'train' | 'validation' | 'test';
  @ApiPropertyOptional({ default: 1 }) @IsOptional() @IsInt() @Min(0) seed?: number;
}

export class ExportQueryDto {
  @ApiProperty({ enum: EXPORT_FORMAT_NAMES })
  @Transform(single) @IsIn(EXPORT_FORMAT_NAMES)
  format: ExportFormat;

  @ApiPropertyOptional({ enum: ['train', 'validation', 'test'], description: 'Only this split (pair and outcome formats; ranked-jsonl has no split)' })
  @Transform(single) @IsOptional() @IsIn(['train', 'validation', 'test']) split?: 'train' | 'validation' | 'test';

  @ApiPropertyOptional({ example: 'videos/{videoId}.mp4', description: 'videoalign-csv, kto-jsonl, groups-jsonl: write each video as this path, {videoId} replaced (default: its URI, else its id)' })
  @Transform(single) @IsOptional() @IsString() @Length(1, MAX_PATH_TEMPLATE_LENGTH) @Matches(/\{videoId\}/, { message: 'pathTemplate must contain {videoId}' })
  @Matches(/^[\x20-\x7e]*$/, { message: 'pathTemplate must be printable ASCII (it is echoed in the response headers)' })
  pathTemplate?: string;

  @ApiPropertyOptional({ description: 'videoalign-csv: add an `overall` label column (for --eval_dim overall)', default: false })
  @Transform(boolean) @IsOptional() @IsBoolean() overall?: boolean;

  @ApiPropertyOptional({ description: 'videoalign-csv: seed of the balanced A/B order', default: 1 })
  @Transform(integer) @IsOptional() @IsInt() @Min(0) seed?: number;

  @ApiPropertyOptional({ enum: ['request', 'prompt'], default: 'request', description: 'groups-jsonl: the candidates of a request, or of a prompt across requests' })
  @Transform(single) @IsOptional() @IsIn(['request', 'prompt']) groupBy?: 'request' | 'prompt';
}

export class GeneratorVersionDto {
  @ApiProperty({ example: 'seedance' }) @IsString() @Length(1, 128) model: string;
  @ApiProperty({ example: '1.3.0' }) @IsString() @Length(1, 128) modelVersion: string;
  @ApiPropertyOptional({ description: 'The version it was fine-tuned from' }) @IsOptional() @IsString() @Length(1, 128) parentVersion?: string;
  @ApiPropertyOptional({ type: [String], description: 'Preference sets it was trained on' })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsUUID('all', { each: true }) trainedOn?: string[];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 2000) notes?: string;
}
