import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CandidateRewardDto {
  @ApiProperty({ description: 'Index of the candidate in the request' }) index: number;
  @ApiProperty({ type: String, nullable: true, description: 'The candidate\'s videoId; null for raw features' }) videoId: string | null;
  @ApiProperty({ description: 'The overall head' }) reward: number;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'number' }, description: "Each dimension head's score (absent for a model without heads)" })
  dimensions?: Record<string, number>;
}

export class ScoreResponseDto {
  @ApiProperty({ format: 'uuid' }) modelId: string;
  @ApiProperty() modelVersion: number;
  @ApiProperty({ type: [String], description: "The model's dimension heads, in order (empty for a model without heads)" }) dimensions: string[];
  @ApiProperty({ type: [CandidateRewardDto] }) rewards: CandidateRewardDto[];
  @ApiProperty({ type: [Number], description: 'Candidate indices, best first' }) ranking: number[];
}
