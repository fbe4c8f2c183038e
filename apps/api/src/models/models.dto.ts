import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, IsUUID, Length, Max, Min,
} from 'class-validator';

export class PromoteDto {
  @ApiPropertyOptional({ description: 'Promote even if it does not beat production; needs a reason' })
  @IsOptional() @IsBoolean() force?: boolean;

  @ApiPropertyOptional({ description: 'Why (required with force)' })
  @IsOptional() @IsString() @Length(1, 500) reason?: string;

  @ApiPropertyOptional({ description: 'The observed accuracy gain over production on the frozen pairs must exceed this (besides the paired non-inferiority test)', default: 0 })
  @IsOptional() @IsNumber() @Min(-1) @Max(1) margin?: number;
}

export class TrainRequestDto {
  @ApiPropertyOptional({ enum: ['linear', 'mlp'], default: 'mlp' })
  @IsOptional() @IsIn(['linear', 'mlp']) kind?: 'linear' | 'mlp';

  @ApiPropertyOptional({ type: [Number], example: [64] })
  @IsOptional() @IsArray() @ArrayMaxSize(4) @IsInt({ each: true }) @Min(1, { each: true }) @Max(1024, { each: true })
  hiddenLayers?: number[];

  @ApiPropertyOptional({ description: "Train on this ready preference set's pairs and splits instead of live data (not with minMargin)" })
  @IsOptional() @IsUUID() preferenceSetId?: string;

  @ApiPropertyOptional({ enum: ['none', 'davidson'], default: 'none' })
  @IsOptional() @IsIn(['none', 'davidson']) ties?: 'none' | 'davidson';

  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(0) seed?: number;
  @ApiPropertyOptional({ description: 'Safety cap on epochs; runs stop when the validation loss stops improving', default: 1000 })
  @IsOptional() @IsInt() @Min(1) @Max(5000) maxEpochs?: number;
  @ApiPropertyOptional({ description: 'Epochs without validation improvement before stopping', default: 5 })
  @IsOptional() @IsInt() @Min(1) @Max(100) patience?: number;
  @ApiPropertyOptional({ enum: ['adam', 'exact'], default: 'adam', description: "exact: linear only; Newton's method to the L2-regularised optimum, L2 chosen on the validation pairs, then refitted on train + validation" })
  @IsOptional() @IsIn(['adam', 'exact']) solver?: 'adam' | 'exact';
  @ApiPropertyOptional({ enum: ['aggregate', 'per-user'], default: 'aggregate', description: "Live data only. per-user: train on each user's own comparisons of a request's candidates (validation and test pairs stay the aggregate ones)" })
  @IsOptional() @IsIn(['aggregate', 'per-user']) pairs?: 'aggregate' | 'per-user';
  @ApiPropertyOptional() @IsOptional() @IsNumber() @Min(0) @Max(10) minMargin?: number;

  @ApiPropertyOptional({ description: 'Try to promote the new model through the promotion gate when training ends', default: true })
  @IsOptional() @IsBoolean() promote?: boolean;

  @ApiPropertyOptional({ description: 'Gain over production the gate requires (see promote margin)', default: 0 })
  @IsOptional() @IsNumber() @Min(0) @Max(1) promotionMargin?: number;
}
