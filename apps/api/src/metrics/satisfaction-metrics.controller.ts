import { Body, Controller, Delete, Get, HttpCode, Put, Query, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { KeyOwner } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { CompareQueryDto, MetricsWindowDto, SatisfactionQueryDto, TrafficSplitBodyDto, TrafficSplitPairDto, VideosQueryDto } from './metrics-query.dto';
import {
  ComparisonDto, DimensionMetricSetDto, DimensionsDto, MetricSetDto, SatisfactionSeriesDto, TrafficSplitDto, TrafficSplitListDto, TrafficSplitRemovedDto, VideoRankingDto,
} from './metrics-response.dto';
import { ApiErrors } from '../openapi/openapi.decorators';
import { SatisfactionMetricsService } from './satisfaction-metrics.service';

@ApiTags('metrics')
@ApiExtraModels(MetricSetDto, DimensionMetricSetDto)
@ApiResponse({ status: 400, description: 'Invalid query: the error names the parameter' })
@ApiResponse({ status: 403, description: 'An ingest key: reading metrics needs a secret key' })
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/metrics')
export class SatisfactionMetricsController {
  constructor(private readonly metrics: SatisfactionMetricsService) {}

  @Get('satisfaction')
  @ApiOperation({
    summary: 'Satisfaction and engagement over time',
    description: 'Per UTC bucket and group, from the hourly rollups. A viewer is one (video, user) row, counted in the '
      + 'hour of its first event; rates are over viewers except completion (over viewers who played); each metric has '
      + 'its cluster-robust 95% interval (clustered by video and by user; see `method` in the answer). With `dimension`, '
      + "the metrics are that rating dimension's: mean rating and satisfaction over the viewers who rated it.",
  })
  @ApiOkResponse({ type: SatisfactionSeriesDto })
  satisfaction(@Auth() key: KeyOwner, @Query() query: SatisfactionQueryDto) {
    return this.metrics.satisfaction(key.projectId, query, key.ratingDimensions);
  }

  @Get('compare')
  @ApiOperation({
    summary: 'Candidate generator (model:version) against a baseline',
    description: 'Every metric of both sides over the window, the difference candidate − baseline with cluster-robust '
      + 'always-valid 95% intervals and p-values (fixedHorizon=true: the classical test), the relative lift, and '
      + '`significant` from Benjamini–Hochberg at q = 0.05 across the metrics of the answer. With expectedSplit, a '
      + 'sample-ratio-mismatch test on the generations of each side (flagged at p < 0.001); without it, the same test '
      + 'against the split the project declared for this pair (PUT /v1/metrics/traffic-splits), if any. With `dimension`, '
      + "the compared metrics are that rating dimension's mean rating and satisfaction.",
  })
  @ApiOkResponse({ type: ComparisonDto })
  compare(@Auth() key: KeyOwner, @Query() query: CompareQueryDto) {
    return this.metrics.compare(key.projectId, query, key.ratingDimensions);
  }

  @Get('traffic-splits')
  @ApiOperation({ summary: "The project's declared traffic splits between pairs of generators (for compare's SRM test)" })
  @ApiOkResponse({ type: TrafficSplitListDto })
  trafficSplits(@Auth() key: KeyOwner) {
    return this.metrics.trafficSplits(key.projectId);
  }

  @Put('traffic-splits')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Declare the intended traffic split between two generators',
    description: 'compare then runs its sample-ratio-mismatch test against it whenever the query gives no expectedSplit '
      + '(for this pair either way round). Replaces an earlier declaration of the pair.',
  })
  @ApiOkResponse({ type: TrafficSplitDto })
  declareTrafficSplit(@Auth() key: KeyOwner, @Body() body: TrafficSplitBodyDto) {
    return this.metrics.declareTrafficSplit(key.projectId, body);
  }

  @Delete('traffic-splits')
  @ApiOperation({ summary: 'Remove the declared split of a pair (either way round)' })
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: TrafficSplitRemovedDto })
  removeTrafficSplit(@Auth() key: KeyOwner, @Query() query: TrafficSplitPairDto) {
    return this.metrics.removeTrafficSplit(key.projectId, query);
  }

  @Get('videos')
  @ApiOperation({
    summary: 'Best and worst videos by shrunk mean satisfaction',
    description: 'From the per-video aggregate: the videos whose generation was created in the window, each over all '
      + 'its viewers to date, shrunk toward their pooled mean with the prior strength of satisfaction policy v1, so one '
      + 'delighted viewer does not outrank a hundred happy ones.',
  })
  @ApiOkResponse({ type: VideoRankingDto })
  videos(@Auth() key: KeyOwner, @Query() query: VideosQueryDto) {
    return this.metrics.videos(key.projectId, query, key.ratingDimensions);
  }

  @Get('dimensions')
  @ApiOperation({ summary: "Model versions, categories and segments with data in the window, and the project's rating dimensions (for filters)" })
  @ApiOkResponse({ type: DimensionsDto })
  dimensions(@Auth() key: KeyOwner, @Query() query: MetricsWindowDto) {
    return this.metrics.dimensions(key.projectId, query, key.ratingDimensions);
  }
}
