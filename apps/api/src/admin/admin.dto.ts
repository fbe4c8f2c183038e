import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsInt, IsOptional, IsString, Length, Matches, Max, Min, NotEquals, ValidateNested } from 'class-validator';
import { MAX_RATING_DIMENSIONS } from '@flywheel/contracts';
import { ProjectOriginsDto, RateLimitsDto } from '../keys/keys.dto';

export class ProjectSettingsDto extends ProjectOriginsDto {
  @ApiPropertyOptional({ type: RateLimitsDto, nullable: true, description: "Token buckets per key kind; null: the api's defaults" })
  @IsOptional() @ValidateNested() @Type(() => RateLimitsDto)
  rateLimits?: RateLimitsDto | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 36500, description: 'Days raw events are kept (whole UTC days; signals, rollups and models stay); null: forever (the default)' })
  @IsOptional() @IsInt() @Min(1) @Max(36500)
  eventRetentionDays?: number | null;
}

export class ProjectCreateDto extends ProjectSettingsDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty({ description: "Length of the generations' feature vectors" }) @IsInt() @Min(1) @Max(4096) featureDim: number;

  @ApiPropertyOptional({ type: [String], description: 'Rating dimensions a rate event may name (default visual_quality, motion_quality, text_alignment)' })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_RATING_DIMENSIONS) @ArrayUnique()
  @IsString({ each: true }) @Matches(/^[a-z][a-z0-9_]{0,63}$/, { each: true, message: 'each of ratingDimensions must be snake_case, e.g. visual_quality' })
  @NotEquals('overall', { each: true, message: '"overall" is the overall rating (a rate event without dimension), not a dimension' })
  ratingDimensions?: string[];
}
