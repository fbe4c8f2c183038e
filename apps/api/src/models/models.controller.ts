import { createHash } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { KeyOwner, ModelsRepository, PreferenceSetsRepository } from '@flywheel/database';
import { promoteIfBetter } from '@flywheel/training';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { FlywheelError } from '@flywheel/errors';
import { validationFailed } from '../errors/validation';
import { PromoteDto, TrainRequestDto } from './models.dto';
import { ApiErrors } from '../openapi/openapi.decorators';
import { ModelDto, ModelWithCardDto, PromotionDecisionDto, TrainingJobDto } from './models.responses';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => validationFailed([{ field: 'id', problems: ['id must be a UUID'] }]) });

@ApiTags('reward models')
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly models: ModelsRepository, private readonly sets: PreferenceSetsRepository) {}

  @Get()
  @ApiOkResponse({ type: [ModelDto], description: 'Newest version first' })
  list(@Auth() key: KeyOwner) {
    return this.models.list(key.projectId);
  }

  /**
   * Queues a training run; the trainer picks it up. Poll GET /v1/models/jobs/:id. A preference set must exist in
   * this project and be ready (the trainer refuses anything it cannot honour; this says so before queueing).
   */
  @Post('train')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: TrainingJobDto })
  async train(@Auth() key: KeyOwner, @Body() body: TrainRequestDto) {
    if (body.preferenceSetId !== undefined) {
      const set = await this.sets.find(key.projectId, body.preferenceSetId);
      const problem = !set ? `preferenceSetId: no preference set ${body.preferenceSetId} in this project`
        : set.status !== 'ready' ? `preferenceSetId: preference set ${body.preferenceSetId} is ${set.status}, not ready` : null;
      if (problem) throw new FlywheelError('VALIDATION_FAILED', problem, { details: [{ field: 'preferenceSetId', problems: [problem] }] });
      if (body.minMargin !== undefined) {
        const message = 'minMargin applies to live data and cannot be combined with preferenceSetId (the set fixed its pairs)';
        throw new FlywheelError('VALIDATION_FAILED', message, { details: [{ field: 'minMargin', problems: [message] }] });
      }
    }
    return this.models.enqueueJob(key.projectId, body);
  }

  @Get('jobs/:id')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: TrainingJobDto })
  async job(@Auth() key: KeyOwner, @Param('id', uuid) id: string) {
    return (await this.models.job(key.projectId, id)) ?? notFound(`no training job ${id}`);
  }

  @Get(':id')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: ModelWithCardDto })
  async show(@Auth() key: KeyOwner, @Param('id', uuid) id: string) {
    const model = (await this.models.find(key.projectId, id)) ?? notFound(`no model ${id}`);
    return { ...model, card: (await this.models.card(key.projectId, id))!.card };
  }

  @Get(':id/card.md')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ description: 'The model card as Markdown', content: { 'text/markdown': { schema: { type: 'string' } } } })
  async cardMarkdown(@Auth() key: KeyOwner, @Param('id', uuid) id: string, @Res() reply: FastifyReply) {
    const card = (await this.models.card(key.projectId, id)) ?? notFound(`no model ${id}`);
    void reply.type('text/markdown; charset=utf-8').send(card.markdown);
  }

  /**
   * The ONNX file (input `features` float32 [N, D], output `reward` float32 [N]). Traceable: its file name carries
   * the model id and version, its metadata_props the model id, version, project and preference set, and the headers
   * its sha256 and how to fetch it again.
   */
  @Get(':id/onnx')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({
    description: 'The ONNX file', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
    headers: {
      'X-Flywheel-Model-Id': { description: 'The model', schema: { type: 'string' } },
      'X-Flywheel-Content-Sha256': { description: 'sha256 of these bytes', schema: { type: 'string' } },
      'X-Flywheel-Source': { description: 'The path that gives these bytes again', schema: { type: 'string' } },
      'X-Flywheel-Cli': { description: 'The flywheel command that gives these bytes again', schema: { type: 'string' } },
    },
  })
  async onnx(@Auth() key: KeyOwner, @Param('id', uuid) id: string, @Res() reply: FastifyReply) {
    const model = (await this.models.find(key.projectId, id)) ?? notFound(`no model ${id}`);
    const bytes = (await this.models.onnx(key.projectId, id))!;
    void reply
      .type('application/octet-stream')
      .header('Content-Disposition', `attachment; filename="reward-model-${model.id}-v${model.version}.onnx"`)
      .header('X-Flywheel-Model-Id', model.id)
      .header('X-Flywheel-Content-Sha256', createHash('sha256').update(bytes).digest('hex'))
      .header('X-Flywheel-Source', `/v1/models/${model.id}/onnx`)
      .header('X-Flywheel-Cli', `flywheel models download ${model.id} -o reward-model-${model.id}-v${model.version}.onnx`)
      .send(bytes);
  }

  /**
   * Promotes if the promotion gate finds the model significantly not worse than production and better on the same
   * frozen evaluation pairs (decision and statistics recorded either way); `force` needs a reason.
   */
  @Post(':id/promote')
  @ApiErrors('MODEL_NOT_FOUND', 'NOT_A_CANDIDATE', 'OVERRIDE_NEEDS_REASON')
  @HttpCode(200)
  @ApiOkResponse({ type: PromotionDecisionDto, description: 'The decision, promoted or not' })
  async promote(@Auth() key: KeyOwner, @Param('id', uuid) id: string, @Body() body: PromoteDto) {
    if (body.force && !body.reason) {
      throw new FlywheelError('VALIDATION_FAILED', 'reason is required when force is true', { details: [{ field: 'reason', problems: ['reason is required when force is true'] }] });
    }
    // PromotionError's codes have their statuses in ERROR_CODES (404, 409, 400); the filter maps them.
    return promoteIfBetter(this.models, key.projectId, id, {
      improvementMargin: body.margin,
      override: body.force ? { reason: body.reason! } : undefined,
    });
  }
}

function notFound(message: string): never {
  throw new FlywheelError('NOT_FOUND', message);
}
