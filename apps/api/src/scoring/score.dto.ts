import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsDefined, IsOptional, IsString, IsUUID, Length, ValidateNested } from 'class-validator';
import { IsFiniteNumberArray } from '../feedback/custom.validators';
import { MAX_ID_LENGTH, MAX_PROMPT_LENGTH } from '@flywheel/contracts';

export const MAX_SCORE_CANDIDATES = 1000;
/** A rollout batch: 48 prompts × 24 rollouts is 1,152; 2,048 leaves room. */
export const MAX_REWARD_CANDIDATES = 2048;

export class ScoreCandidateDto {
  @ApiPropertyOptional({ description: 'A registered generation; its stored features are scored' })
  @IsOptional() @IsString() @Length(1, MAX_ID_LENGTH)
  videoId?: string;

  @ApiPropertyOptional({ type: [Number], description: "Raw features of the project's dimension (instead of videoId)" })
  @IsOptional() @IsFiniteNumberArray(4096)
  features?: number[];

  @ApiPropertyOptional({
    type: String, format: 'byte',
    description: 'The same features as base64 of little-endian float32s (instead of features; numpy: base64.b64encode(a.astype("<f4").tobytes())). Parses several times faster than a JSON array',
  })
  @IsOptional() @IsString()
  featuresBase64?: string;
}

export interface ScoreCandidate {
  videoId?: string;
  features?: number[] | Float32Array;
  featuresBase64?: string;
}

/** What the handler receives (an interface, so the global ValidationPipe leaves it to ScoreRequestPipe). */
export interface ScoreRequest {
  /** featuresBase64 arrives decoded into features too (ScoreRequestPipe). */
  candidates: ScoreCandidate[];
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

export interface RewardCandidate extends ScoreCandidate {
  prompt: string;
  group: string | number;
}

/** What POST /v1/rewards receives (checked by RewardsRequestPipe). */
export interface RewardsRequest {
  candidates: RewardCandidate[];
  modelId?: string;
  /** Add group-normalised advantages per candidate (default false). */
  advantages?: boolean;
}

export class RewardCandidateDto extends ScoreCandidateDto {
  @ApiProperty({ description: 'The prompt the candidate was generated for (0 to 10,000 characters). Checked and kept in the contract; today\'s reward models score features only' })
  @IsString() @Length(0, MAX_PROMPT_LENGTH)
  prompt: string;

  @ApiProperty({ oneOf: [{ type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH }, { type: 'integer' }], description: 'The rollout group (e.g. one prompt\'s rollouts) that advantages are normalised within; 1 and "1" are the same group' })
  @IsDefined()
  group: string | number;
}

/** The documented shape (OpenAPI); RewardsRequestPipe enforces it. */
export class RewardsRequestDto {
  @ApiProperty({ type: [RewardCandidateDto], minItems: 1, maxItems: MAX_REWARD_CANDIDATES, description: 'Each with exactly one of videoId or features' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_REWARD_CANDIDATES)
  @ValidateNested({ each: true }) @Type(() => RewardCandidateDto)
  candidates: RewardCandidateDto[];

  @ApiPropertyOptional({ description: 'Score with this model (any status) instead of the production one' })
  @IsOptional() @IsUUID()
  modelId?: string;

  @ApiPropertyOptional({ description: 'Also answer group-normalised advantages, (r − mean_group) / std_group with the population std; 0 for a group of one or of equal rewards', default: false })
  @IsOptional() @IsBoolean()
  advantages?: boolean;
}

const COLUMNS = { type: 'object', additionalProperties: { type: 'array', items: { type: 'number' } } } as const;

export class RewardsResponseDto {
  @ApiProperty({ format: 'uuid' }) modelId: string;
  @ApiProperty() modelVersion: number;
  @ApiProperty({ type: [String], description: 'The model\'s dimension heads, in order (empty for a model without heads)' }) dimensions: string[];
  @ApiProperty({ description: 'How many candidates were scored (the length of every column)' }) count: number;
  @ApiProperty({ description: 'How many distinct groups the candidates form' }) groups: number;
  @ApiProperty({ ...COLUMNS, description: 'Columns in request order: `overall` (the overall reward) and one per dimension' })
  rewards: Record<string, number[]>;
  @ApiPropertyOptional({ ...COLUMNS, description: 'With advantages: true, the same columns normalised within each group: (r − mean) / population std; 0 for a group of one or of equal rewards' })
  advantages?: Record<string, number[]>;
}
