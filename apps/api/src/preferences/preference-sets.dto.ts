import { ApiPropertyOptional, ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsNumber, IsOptional, IsString, IsUUID, Length, Max, Min,
} from 'class-validator';

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
  @ApiProperty({ enum: ['dpo-jsonl', 'pairs-jsonl', 'videoalign-csv', 'ranked-jsonl', 'parquet'] })
  @IsIn(['dpo-jsonl', 'pairs-jsonl', 'videoalign-csv', 'ranked-jsonl', 'parquet'])
  format: 'dpo-jsonl' | 'pairs-jsonl' | 'videoalign-csv' | 'ranked-jsonl' | 'parquet';
}

export class GeneratorVersionDto {
  @ApiProperty({ example: 'seedance' }) @IsString() @Length(1, 128) model: string;
  @ApiProperty({ example: '1.3.0' }) @IsString() @Length(1, 128) modelVersion: string;
  @ApiPropertyOptional({ description: 'The version it was fine-tuned from' }) @IsOptional() @IsString() @Length(1, 128) parentVersion?: string;
  @ApiPropertyOptional({ type: [String], description: 'Preference sets it was trained on' })
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsUUID('all', { each: true }) trainedOn?: string[];
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(0, 2000) notes?: string;
}
