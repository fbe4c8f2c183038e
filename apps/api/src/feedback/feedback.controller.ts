import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FeedbackEventInput } from '@flywheel/contracts';
import { KeyOwner } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { AcceptedDto, FeedbackBatchDto } from './feedback-event.dto';
import { FeedbackBatchPipe } from './feedback-batch.pipe';
import { FeedbackService } from './feedback.service';
import { GenerationBatchDto } from './generation.dto';
import { ApiErrors } from '../openapi/openapi.decorators';

@ApiTags('ingestion')
@ApiResponse({ status: 400, description: 'Invalid batch: the error names the index and the field' })
@ApiResponse({ status: 503, description: 'Kafka or the database unavailable: nothing was accepted; retry after Retry-After seconds' })
@ApiErrors('BROKER_UNAVAILABLE')
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class FeedbackController {
  constructor(private readonly feedback: FeedbackService) {}

  @Post('events')
  @HttpCode(202)
  @RequireKey('ingest')
  @ApiResponse({ status: 202, type: AcceptedDto, description: 'Durable in Kafka' })
  @ApiBody({ type: FeedbackBatchDto })
  acceptEvents(@Auth() key: KeyOwner, @Body(FeedbackBatchPipe) events: FeedbackEventInput[]) {
    return this.feedback.acceptEvents(key.projectId, key.ratingDimensions, events);
  }

  @Post('generations')
  @HttpCode(202)
  @RequireKey('ingest')
  @ApiResponse({ status: 202, type: AcceptedDto, description: 'Durable in Kafka' })
  @ApiBody({ type: GenerationBatchDto })
  acceptGenerations(@Auth() key: KeyOwner, @Body() body: unknown) {
    return this.feedback.acceptGenerations(key.projectId, key.featureDim, body);
  }
}
