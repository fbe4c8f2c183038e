import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsNumber, IsOptional, IsString, Length, Max, Min, ValidateNested,
} from 'class-validator';
import { MAX_GENERATIONS_PER_BATCH, MAX_ID_LENGTH } from '@flywheel/contracts';
import { IsEventTimestamp, IsFiniteNumberArray } from './custom.validators';

export class GenerationDto {
  @ApiProperty() @IsString() @Length(1, MAX_ID_LENGTH) videoId: string;
  @ApiProperty({ description: 'Shared by the candidates generated for one prompt' })
  @IsString() @Length(1, MAX_ID_LENGTH) requestId: string;
  @ApiProperty() @IsString() @Length(0, 10000) prompt: string;
  @ApiProperty({ example: 'seedance' }) @IsString() @Length(1, MAX_ID_LENGTH) model: string;
  @ApiProperty({ example: '1.2.0' }) @IsString() @Length(1, MAX_ID_LENGTH) modelVersion: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, MAX_ID_LENGTH) category?: string;
  @ApiPropertyOptional({ description: 'Audience segment' }) @IsOptional() @IsString() @Length(1, MAX_ID_LENGTH) segment?: string;
  @ApiPropertyOptional() @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1e9) durationMs?: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 2048) uri?: string;
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
