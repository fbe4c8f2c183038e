import { ApiProperty, getSchemaPath } from '@nestjs/swagger';

export class VideoGenerationDto {
  @ApiProperty() requestId: string;
  @ApiProperty() prompt: string;
  @ApiProperty() model: string;
  @ApiProperty() modelVersion: string;
  @ApiProperty({ type: String, nullable: true }) category: string | null;
  @ApiProperty({ type: String, nullable: true }) segment: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs: number | null;
  @ApiProperty({ type: String, nullable: true }) uri: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class VideoSatisfactionDto {
  @ApiProperty({ description: 'Users with a satisfaction score' }) n: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Their mean; null when n is 0' }) mean: number | null;
}

export class DimensionRatingDto {
  @ApiProperty({ description: 'Users who rated it' }) n: number;
  @ApiProperty({ description: 'Mean rating 1–5' }) meanRating: number;
  @ApiProperty({ description: '(meanRating − 3) / 2, in [−1, 1]' }) satisfaction: number;
}

export class VideoDto {
  @ApiProperty() videoId: string;
  @ApiProperty({ type: VideoGenerationDto, nullable: true, description: 'null: the generation has not arrived' }) generation: VideoGenerationDto | null;
  @ApiProperty({ description: 'Events stored for the video' }) events: number;
  @ApiProperty({ description: 'Users with any event on it' }) viewers: number;
  @ApiProperty({
    type: 'object', additionalProperties: { type: 'number', nullable: true }, example: { liked: 3, completed: 5, rated: 2, meanWatchRatio: 0.8 },
    description: 'Users per current signal (liked, favorited, shared, downloaded, exported, completed, chosen, passedOver, regenerated, discarded, disliked, reported, rated) and meanWatchRatio (null when no one watched)',
  })
  signals: Record<string, number>;
  @ApiProperty({ type: VideoSatisfactionDto }) satisfaction: VideoSatisfactionDto;
  @ApiProperty({
    type: 'object', additionalProperties: { $ref: getSchemaPath(DimensionRatingDto) },
    description: 'Per rated dimension; `overall` is the overall rating (a rate event without dimension)',
  })
  ratings: Record<string, DimensionRatingDto>;
}
