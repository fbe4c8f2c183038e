import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsNumber, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested,
} from 'class-validator';
import { MAX_GENERATIONS_PER_BATCH, MAX_ID_LENGTH, NUL_PROBLEM } from '@flywheel/contracts';

/** Refuses U+0000, which PostgreSQL text cannot store (see NUL_PROBLEM). */
const NoNul = () => Matches(/^[^\u0000]*$/, { message: `$property ${NUL_PROBLEM}` });
import { IsEventTimestamp, IsFiniteNumberArray } from './custom.validators';

export class GenerationDto {
  @ApiProperty() @NoNul() @IsString() @Length(1, MAX_ID_LENGTH) videoId: string;
  @ApiProperty({ description: 'Shared by the candidates generated for one prompt' })
  @NoNul() @IsString() @Length(1, MAX_ID_LENGTH) requestId: string;
  @ApiProperty() @NoNul() @IsString() @Length(0, 10000) prompt: string;
  @ApiProperty({ example: 'seedance' }) @NoNul() @IsString() @Length(1, MAX_ID_LENGTH) model: string;
  @ApiProperty({ example: '1.2.0' }) @NoNul() @IsString() @Length(1, MAX_ID_LENGTH) modelVersion: string;
  @ApiPropertyOptional() @IsOptional() @NoNul() @IsString() @Length(1, MAX_ID_LENGTH) category?: string;
  @ApiPropertyOptional({ description: 'Audience segment' }) @IsOptional() @NoNul() @IsString() @Length(1, MAX_ID_LENGTH) segment?: string;
  @ApiPropertyOptional() @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1e9) durationMs?: number;
  @ApiPropertyOptional() @IsOptional() @NoNul() @IsString() @Length(1, 2048) uri?: string;
  @ApiProperty({ type: [Number], description: "Exactly the project's feature dimension, finite numbers" })
  @IsFiniteNumberArray(4096)
  features: number[];
  @ApiPropertyOptional({ description: 'When it was generated; defaults to the time received' })
  @IsOptional() @IsEventTimestamp() createdAt?: string;
}

export class GenerationBatchDto {
  @ApiProperty({ type: [GenerationDto], maxItems: MAX_GENERATIONS_PER_BATCH })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_GENERATIONS_PER_BATCH)
  @ValidateNested({ each: true }) @Type(() => GenerationDto)
  generations: GenerationDto[];
}
