import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import { IsFiniteNumberArray } from '../feedback/custom.validators';
import { MAX_ID_LENGTH } from '@flywheel/contracts';

export const MAX_SCORE_CANDIDATES = 1000;

export class ScoreCandidateDto {
  @ApiPropertyOptional({ description: 'A registered generation; its stored features are scored' })
  @IsOptional() @IsString() @Length(1, MAX_ID_LENGTH)
  videoId?: string;

  @ApiPropertyOptional({ type: [Number], description: "Raw features of the project's dimension (instead of videoId)" })
  @IsOptional() @IsFiniteNumberArray(4096)
  features?: number[];
}

/** What the handler receives (an interface, so the global ValidationPipe leaves it to ScoreRequestPipe). */
export interface ScoreRequest {
  candidates: { videoId?: string; features?: number[] }[];
  /** Score with this model of the project instead of production. */
  modelId?: string;
}

/** The documented shape (OpenAPI); ScoreRequestPipe enforces it. */
export class ScoreRequestDto {
  @ApiProperty({ type: [ScoreCandidateDto], maxItems: MAX_SCORE_CANDIDATES })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_SCORE_CANDIDATES)
  @ValidateNested({ each: true }) @Type(() => ScoreCandidateDto)
  candidates: ScoreCandidateDto[];

  @ApiPropertyOptional({ description: 'Score with this model (any status) instead of the production one' })
  @IsOptional() @IsUUID()
  modelId?: string;
}
