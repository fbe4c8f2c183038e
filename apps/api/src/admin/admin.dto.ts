import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { ProjectOriginsDto, RateLimitsDto } from '../keys/keys.dto';

export class ProjectSettingsDto extends ProjectOriginsDto {
  @ApiPropertyOptional({ type: RateLimitsDto, nullable: true, description: "Token buckets per key kind; null: the api's defaults" })
  @IsOptional() @ValidateNested() @Type(() => RateLimitsDto)
  rateLimits?: RateLimitsDto | null;
}

export class ProjectCreateDto extends ProjectSettingsDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty({ description: "Length of the generations' feature vectors" }) @IsInt() @Min(1) @Max(4096) featureDim: number;
}
