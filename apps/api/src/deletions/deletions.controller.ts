import { Controller, Delete, Get, Param, PipeTransform, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { KeyOwner } from '@flywheel/database';
import { FlywheelError } from '@flywheel/errors';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { uuidParam } from '../keys/keys.controller';
import { DeletionView, DeletionsService } from './deletions.service';
import { DeletionListDto, DeletionViewDto } from './deletions.dto';
import { ApiErrors } from '../openapi/openapi.decorators';

/** The longest user id ingestion accepts (FeedbackEventDto.userId). */
const MAX_USER_ID_LENGTH = 256;

/** A user id in the path: what ingestion accepts, else a 400 naming `userId`. */
const userIdParam: PipeTransform<string, string> = {
  transform(value: string) {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_USER_ID_LENGTH) {
      const problem = `userId must be 1 to ${MAX_USER_ID_LENGTH} characters`;
      throw new FlywheelError('VALIDATION_FAILED', problem, { details: [{ field: 'userId', problems: [problem] }] });
    }
    return value;
  },
};

/** 200 with the result when the deletion finished within the request, 202 with the job to poll otherwise. */
export function answer(reply: FastifyReply, view: DeletionView): DeletionView {
  if (view.status === 'failed') throw new FlywheelError('INTERNAL', `deletion ${view.jobId} failed: ${view.error}; ask again`);
  void reply.status(view.status === 'done' ? 200 : 202);
  return view;
}

@ApiTags('privacy')
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1')
export class DeletionsController {
  constructor(private readonly deletions: DeletionsService) {}

  /**
   * Deletes everything stored about one user of the project (the raw id, HMAC'd as at ingestion): events, per-(video,
   * user) rows, their part of every rollup; rebuilds the preference sets that never left the service and lists the
   * ones that did. Idempotent. Later deliveries of their earlier events are dropped by the worker.
   */
  @Delete('users/:userId')
  @ApiOkResponse({ type: DeletionViewDto, description: 'Done: `result` says what was removed and which sets had already left' })
  @ApiResponse({ status: 202, type: DeletionViewDto, description: 'Running: poll GET /v1/deletions/:jobId' })
  async deleteUser(@Auth() key: KeyOwner, @Param('userId', userIdParam) userId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return answer(reply, await this.deletions.deleteUser(key, userId));
  }

  /** The project's deletions, newest first (the audit trail: which key asked, when, what was removed). */
  @Get('deletions')
  @ApiOkResponse({ type: DeletionListDto })
  async list(@Auth() key: KeyOwner) {
    return { deletions: await this.deletions.list(key.projectId) };
  }

  @Get('deletions/:jobId')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: DeletionViewDto })
  show(@Auth() key: KeyOwner, @Param('jobId', uuidParam('jobId')) jobId: string) {
    return this.deletions.find(jobId, key.projectId);
  }
}
