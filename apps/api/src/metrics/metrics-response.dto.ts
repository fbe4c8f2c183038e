import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { METRIC_DESCRIPTION } from './metric-definitions';

/** Response shapes, for the OpenAPI document; the service returns plain objects of these shapes. */

export class EstimateDto {
  @ApiProperty({ type: Number, nullable: true, description: 'The rate or mean; null when n is 0' }) value: number | null;
  @ApiProperty({ description: 'The denominator: see the metric' }) n: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Lower bound of the 95% interval; null when undefined (n = 0, or n < 2 for a mean)' }) low: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Upper bound of the 95% interval' }) high: number | null;
}

export class MetricSetDto {
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.like }) like: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.favorite }) favorite: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.share }) share: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.download }) download: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.export }) export: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.completion }) completion: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.regenerate }) regenerate: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.discard }) discard: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.dislike }) dislike: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.watchRatio }) watchRatio: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: METRIC_DESCRIPTION.satisfaction }) satisfaction: EstimateDto;
}

export class GroupDto {
  @ApiPropertyOptional({ type: String, nullable: true, description: 'null: unknown (the generation has not arrived)' }) model?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) modelVersion?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'null: none given' }) category?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) segment?: string | null;
}

export class SatisfactionPointDto {
  @ApiProperty({ description: 'Start of the UTC bucket' }) bucket: string;
  @ApiProperty({ type: GroupDto, description: 'The grouped dimensions' }) group: GroupDto;
  @ApiProperty({ description: 'Viewers: (video, user) rows whose first event falls in the bucket' }) n: number;
  @ApiProperty({ type: MetricSetDto }) metrics: MetricSetDto;
}

export class WindowDto {
  @ApiProperty({ description: 'Effective start (inclusive, on the hour)' }) from: string;
  @ApiProperty({ description: 'Effective end (exclusive, on the hour)' }) to: string;
}

export class SatisfactionSeriesDto extends WindowDto {
  @ApiProperty({ enum: ['hour', 'day'] }) granularity: string;
  @ApiProperty({ type: [String] }) groupBy: string[];
  @ApiProperty({ type: Object, description: 'The filters applied (absent: not filtered)' }) filters: Record<string, string[]>;
  @ApiProperty({ type: [SatisfactionPointDto], description: 'Ordered by bucket, then group; buckets without viewers are absent' })
  series: SatisfactionPointDto[];
}

export class DifferenceDto {
  @ApiProperty({ type: Number, nullable: true }) value: number | null;
  @ApiProperty({ type: Number, nullable: true }) low: number | null;
  @ApiProperty({ type: Number, nullable: true }) high: number | null;
}

export class MetricComparisonDto {
  @ApiProperty({ example: 'like' }) metric: string;
  @ApiProperty({ description: 'What the metric is over' }) definition: string;
  @ApiProperty({ type: EstimateDto }) baseline: EstimateDto;
  @ApiProperty({ type: EstimateDto }) candidate: EstimateDto;
  @ApiProperty({
    type: DifferenceDto,
    description: 'candidate − baseline with a 95% interval: Newcombe hybrid score interval for rates, Welch (normal) for means',
  })
  difference: DifferenceDto;
  @ApiProperty({
    type: DifferenceDto, nullable: true,
    description: 'candidate / baseline − 1 with a delta-method 95% interval on the log ratio; null unless both estimates are > 0 (e.g. a satisfaction mean at or below 0)',
  })
  lift: DifferenceDto | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Two-sided: pooled two-proportion z test for rates, Welch z test for means; null when an arm has no data' })
  pValue: number | null;
  @ApiProperty({ description: 'Discovery under Benjamini–Hochberg at q = 0.05 across the metrics of this answer that have a p-value' })
  significant: boolean;
}

export class ArmDto {
  @ApiProperty() modelVersion: string;
  @ApiProperty({ description: 'Viewers in the window' }) n: number;
}

export class ComparisonDto extends WindowDto {
  @ApiProperty({ type: Object }) filters: Record<string, string[]>;
  @ApiProperty({ type: ArmDto }) baseline: ArmDto;
  @ApiProperty({ type: ArmDto }) candidate: ArmDto;
  @ApiProperty({ type: Object, example: { method: 'benjamini-hochberg', q: 0.05, tests: 11 }, description: 'How `significant` was decided' })
  multipleTesting: { method: string; q: number; tests: number };
  @ApiProperty({ type: [MetricComparisonDto] }) metrics: MetricComparisonDto[];
}

export class RankedVideoDto {
  @ApiProperty() videoId: string;
  @ApiProperty() model: string;
  @ApiProperty() modelVersion: string;
  @ApiProperty({ type: String, nullable: true }) category: string | null;
  @ApiProperty({ type: String, nullable: true }) segment: string | null;
  @ApiProperty() prompt: string;
  @ApiProperty({ description: 'Scored viewers in the window' }) n: number;
  @ApiProperty({ description: 'Plain mean satisfaction of those viewers' }) mean: number;
  @ApiProperty({ description: '(sum + priorMean · priorStrength) / (n + priorStrength): what the lists are ordered by' }) shrunk: number;
}

export class VideoRankingDto extends WindowDto {
  @ApiProperty({ description: "The project's mean satisfaction in the window (all scored viewers): the shrinkage target" }) priorMean: number;
  @ApiProperty({ description: 'Pseudo-viewers of the prior (satisfaction policy v1)' }) priorStrength: number;
  @ApiProperty({ type: [RankedVideoDto], description: 'Highest shrunk mean first' }) best: RankedVideoDto[];
  @ApiProperty({ type: [RankedVideoDto], description: 'Lowest shrunk mean first' }) worst: RankedVideoDto[];
}

export class DimensionsDto extends WindowDto {
  @ApiProperty({ type: [Object], example: [{ model: 'seedance', modelVersion: '1.0', viewers: 1200 }] })
  versions: { model: string | null; modelVersion: string | null; viewers: number }[];
  @ApiProperty({ type: [String], description: 'Known categories (unknown ones are not listed)' }) categories: string[];
  @ApiProperty({ type: [String] }) segments: string[];
}
