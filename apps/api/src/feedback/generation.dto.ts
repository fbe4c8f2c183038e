import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  MAX_FEATURE_DIM, MAX_FPS, MAX_GENERATIONS_PER_BATCH, MAX_ID_LENGTH, MAX_NUM_FRAMES, MAX_PROMPT_LENGTH, MAX_URI_LENGTH, MIN_FPS,
} from '@flywheel/contracts';

/**
 * The documented shape of POST /v1/generations (OpenAPI only). Requests are validated by parseGenerationBatch in
 * libs/contracts, with the rules the worker's decoder applies; lengths count Unicode characters (code points).
 */
export class GenerationDto {
  @ApiProperty({ maxLength: MAX_ID_LENGTH }) videoId: string;
  @ApiProperty({ description: 'Shared by the candidates generated for one prompt', maxLength: MAX_ID_LENGTH }) requestId: string;
  @ApiProperty({ maxLength: MAX_PROMPT_LENGTH }) prompt: string;
  @ApiProperty({ example: 'seedance', maxLength: MAX_ID_LENGTH }) model: string;
  @ApiProperty({ example: '1.2.0', maxLength: MAX_ID_LENGTH }) modelVersion: string;
  @ApiPropertyOptional({ maxLength: MAX_ID_LENGTH }) category?: string;
  @ApiPropertyOptional({ description: 'Audience segment', maxLength: MAX_ID_LENGTH }) segment?: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 1e9 }) durationMs?: number;
  @ApiPropertyOptional({ maxLength: MAX_URI_LENGTH }) uri?: string;
  @ApiPropertyOptional({ description: 'Frames per second of the video file (videoalign-csv fps_A/fps_B)', minimum: MIN_FPS, maximum: MAX_FPS, example: 24 })
  fps?: number;
  @ApiPropertyOptional({ description: 'Number of frames of the video file (videoalign-csv num_frames_A/num_frames_B)', type: 'integer', minimum: 1, maximum: MAX_NUM_FRAMES, example: 121 })
  numFrames?: number;
  @ApiProperty({
    type: [Number], maxItems: MAX_FEATURE_DIM,
    description: "Exactly the project's feature dimension; finite numbers within the float32 range, stored as float32",
  })
  features: number[];
  @ApiPropertyOptional({ description: 'When it was generated; defaults to the time received' }) createdAt?: string;
}

export class GenerationBatchDto {
  @ApiProperty({ type: [GenerationDto], minItems: 1, maxItems: MAX_GENERATIONS_PER_BATCH })
  generations: GenerationDto[];
}
