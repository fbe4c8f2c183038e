import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { DIMENSION_METRIC_DESCRIPTION, METRIC_DESCRIPTION } from './metric-definitions';

/** Response shapes, for the OpenAPI document; the service returns plain objects of these shapes. */

export class EstimateDto {
  @ApiProperty({ type: Number, nullable: true, description: 'The rate or mean; null when n is 0' }) value: number | null;
  @ApiProperty({ description: 'The denominator: see the metric' }) n: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Lower bound of the cluster-robust 95% interval (see `method`); null when undefined (n = 0, or n < 2 for a mean)' }) low: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Upper bound of the cluster-robust 95% interval' }) high: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Cluster-robust standard error' }) standardError: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Cluster-robust variance / naive (row-level) variance, ≥ 1' }) designEffect: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Degrees of freedom of the t reference (min(videos, users) − 1); null: normal' }) df: number | null;
}

export class MethodDto {
  @ApiProperty({ example: 'video+user', description: 'The clusters: rows of one video, and rows of one user, are not independent' }) unit: string;
  @ApiProperty({ example: 'cgm-two-way', description: 'Cameron–Gelbach–Miller two-way cluster-robust variance' }) variance: string;
  @ApiProperty({ example: 'design-effect', description: "How a window, bucket or group gets its variance: the version's all-time design effect applied to its naive variance" }) window: string;
  @ApiProperty({ example: 0.95 }) confidence: number;
  @ApiProperty({ description: 'The method in one paragraph, to show beside the figures' }) description: string;
}

export class SequentialDto {
  @ApiProperty({ example: 'gaussian-mixture-sprt' }) kind: string;
  @ApiProperty({ example: 5000, description: 'N*: total viewers (both arms) at which the always-valid interval is tightest' }) tuning: number;
  @ApiProperty({ example: 0.05 }) alpha: number;
}

export class CompareMethodDto extends MethodDto {
  @ApiProperty({ enum: ['always-valid', 'fixed-horizon'], description: 'Which test gives the headline difference interval, pValue and significant' }) inference: string;
  @ApiProperty({ type: SequentialDto }) sequential: SequentialDto;
  @ApiProperty({ description: 'What the comparison does with users who saw both versions' }) crossVersionCovariance: string;
}

export class SplitDto {
  @ApiProperty() baseline: number;
  @ApiProperty() candidate: number;
}

export class SrmDto {
  @ApiProperty({ example: 'videos', description: 'What is counted: generations created in the window, per side' }) unit: string;
  @ApiProperty({ enum: ['query', 'declared'], description: "Where the intended split came from: the query's expectedSplit, or the project's declaration for this pair (/v1/metrics/traffic-splits)" }) source: string;
  @ApiProperty({ type: SplitDto, description: 'Intended shares (normalised)' }) expected: SplitDto;
  @ApiProperty({ type: SplitDto, description: 'Observed counts' }) observed: SplitDto;
  @ApiProperty() chiSquare: number;
  @ApiProperty() pValue: number;
  @ApiProperty({ description: 'p < 0.001: the split is broken and the comparison cannot be trusted' }) mismatch: boolean;
  @ApiProperty() message: string;
}

export class TrafficSplitDto {
  @ApiProperty({ example: 'seedance:1.0' }) baseline: string;
  @ApiProperty({ example: 'seedance:2.0' }) candidate: string;
  @ApiProperty({ type: SplitDto, description: 'Intended shares (normalised to sum to 1)' }) expected: SplitDto;
  @ApiProperty({ example: '50:50', description: 'As declared' }) split: string;
  @ApiProperty() updatedAt: string;
}

export class TrafficSplitListDto {
  @ApiProperty({ type: [TrafficSplitDto] }) splits: TrafficSplitDto[];
}

export class TrafficSplitRemovedDto {
  @ApiProperty() baseline: string;
  @ApiProperty() candidate: string;
  @ApiProperty({ example: true }) removed: boolean;
}

export class TestDto {
  @ApiProperty({ type: Number, nullable: true }) low: number | null;
  @ApiProperty({ type: Number, nullable: true }) high: number | null;
  @ApiProperty({ type: Number, nullable: true }) pValue: number | null;
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

/** The metrics of one rating dimension (answers to `?dimension=`). */
export class DimensionMetricSetDto {
  @ApiProperty({ type: EstimateDto, description: DIMENSION_METRIC_DESCRIPTION.rating }) rating: EstimateDto;
  @ApiProperty({ type: EstimateDto, description: DIMENSION_METRIC_DESCRIPTION.satisfaction }) satisfaction: EstimateDto;
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
  @ApiProperty({ description: 'Viewers: (video, user) rows whose first event falls in the bucket; with `dimension`, those of them who rated it' }) n: number;
  @ApiProperty({
    oneOf: [{ $ref: getSchemaPath(MetricSetDto) }, { $ref: getSchemaPath(DimensionMetricSetDto) }],
    description: 'The overall metrics; with `dimension`, that rating dimension\'s (DimensionMetricSetDto)',
  })
  metrics: MetricSetDto | DimensionMetricSetDto;
}

export class WindowDto {
  @ApiProperty({ description: 'Effective start (inclusive, on the hour)' }) from: string;
  @ApiProperty({ description: 'Effective end (exclusive, on the hour)' }) to: string;
}

export class SatisfactionSeriesDto extends WindowDto {
  @ApiProperty({ type: MethodDto, description: 'How the intervals were computed' }) method: MethodDto;
  @ApiProperty({ enum: ['hour', 'day'] }) granularity: string;
  @ApiProperty({ type: [String] }) groupBy: string[];
  @ApiProperty({ type: Object, description: 'The filters applied (absent: not filtered)' }) filters: Record<string, string[]>;
  @ApiProperty({ type: String, nullable: true, description: 'The rating dimension whose metrics these are; null: the overall metrics' }) dimension: string | null;
  @ApiProperty({ type: [SatisfactionPointDto], description: 'Ordered by bucket, then group; buckets without viewers are absent' })
  series: SatisfactionPointDto[];
}

export class DifferenceDto {
  @ApiProperty({ type: Number, nullable: true }) value: number | null;
  @ApiProperty({ type: Number, nullable: true }) low: number | null;
  @ApiProperty({ type: Number, nullable: true }) high: number | null;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Cluster-robust standard error of the difference' }) standardError?: number | null;
}

export class MetricComparisonDto {
  @ApiProperty({ example: 'like' }) metric: string;
  @ApiProperty({ description: 'What the metric is over' }) definition: string;
  @ApiProperty({ type: EstimateDto }) baseline: EstimateDto;
  @ApiProperty({ type: EstimateDto }) candidate: EstimateDto;
  @ApiProperty({
    type: DifferenceDto,
    description: 'candidate − baseline with its headline 95% interval: always-valid by default, fixed-horizon with fixedHorizon=true',
  })
  difference: DifferenceDto;
  @ApiProperty({
    type: DifferenceDto, nullable: true,
    description: 'candidate / baseline − 1 with a delta-method 95% interval on the log ratio; null unless both estimates are > 0 (e.g. a satisfaction mean at or below 0)',
  })
  lift: DifferenceDto | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Headline two-sided p-value (always-valid by default); null when an arm has no data' })
  pValue: number | null;
  @ApiProperty({ description: 'Discovery under Benjamini–Hochberg at q = 0.05 across the headline p-values of this answer' })
  significant: boolean;
  @ApiProperty({ type: TestDto, description: 'Always-valid (mixture SPRT) interval and p-value: valid however often one looks' }) alwaysValid: TestDto;
  @ApiProperty({ type: TestDto, description: 'Classical fixed-horizon t interval and p-value: valid for one pre-planned look' }) fixedHorizon: TestDto;
}

export class ArmDto {
  @ApiProperty({ type: String, nullable: true, description: 'null: a bare version (that version in every model)' }) model: string | null;
  @ApiProperty() modelVersion: string;
  @ApiProperty({ description: 'Viewers in the window (with `dimension`: those who rated it)' }) n: number;
  @ApiProperty({ description: 'Generations created in the window (counted only with expectedSplit; else 0)' }) videos: number;
}

export class ComparisonDto extends WindowDto {
  @ApiProperty({ type: Object }) filters: Record<string, string[]>;
  @ApiProperty({ type: String, nullable: true, description: 'The rating dimension compared (metrics `rating` and `satisfaction`, n = viewers who rated it); null: the overall metrics' }) dimension: string | null;
  @ApiProperty({ type: ArmDto }) baseline: ArmDto;
  @ApiProperty({ type: ArmDto }) candidate: ArmDto;
  @ApiProperty({ type: CompareMethodDto }) method: CompareMethodDto;
  @ApiProperty({ type: SrmDto, nullable: true, description: "Sample-ratio-mismatch test against expectedSplit, or else the project's declared split for this pair; null when neither exists" }) srm: SrmDto | null;
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
  @ApiProperty({ description: 'When its generation was created (what the window selects on)' }) createdAt: string;
  @ApiProperty({ description: 'Scored viewers of the video to date' }) n: number;
  @ApiProperty({ description: 'Plain mean satisfaction of those viewers' }) mean: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Lower bound of the 95% t interval of the mean (null below 2 viewers)' }) low: number | null;
  @ApiProperty({ type: Number, nullable: true }) high: number | null;
  @ApiProperty({ description: '(sum + priorMean · priorStrength) / (n + priorStrength): what the lists are ordered by' }) shrunk: number;
}

export class VideoRankingDto extends WindowDto {
  @ApiProperty({ example: 'video_aggregates', description: 'Served from the per-video aggregate kept by the ingest-worker' }) source: string;
  @ApiProperty({ example: 'generation createdAt', description: 'from/to select videos whose generation was created in the window; figures are over all their viewers' }) windowApplies: string;
  @ApiProperty({ type: String, nullable: true, description: 'With `dimension`: videos ranked by its mean rating 1–5 (n, mean, low, high over the viewers who rated it); null: by mean satisfaction' }) dimension: string | null;
  @ApiProperty({ description: "Pooled mean satisfaction of the window's videos (all their viewers): the shrinkage target" }) priorMean: number;
  @ApiProperty({ description: 'Pseudo-viewers of the prior (satisfaction policy v1)' }) priorStrength: number;
  @ApiProperty({ type: [RankedVideoDto], description: 'Highest shrunk mean first' }) best: RankedVideoDto[];
  @ApiProperty({ type: [RankedVideoDto], description: 'Lowest shrunk mean first' }) worst: RankedVideoDto[];
}

export class DimensionsDto extends WindowDto {
  @ApiProperty({ type: [Object], example: [{ model: 'seedance', modelVersion: '1.0', viewers: 1200 }] })
  versions: { model: string | null; modelVersion: string | null; viewers: number }[];
  @ApiProperty({ type: [String], description: 'Known categories (unknown ones are not listed)' }) categories: string[];
  @ApiProperty({ type: [String] }) segments: string[];
  @ApiProperty({ type: [String], description: "The project's rating dimensions: what `dimension` may name" }) ratingDimensions: string[];
}
