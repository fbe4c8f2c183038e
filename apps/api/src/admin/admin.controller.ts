import { Body, Controller, Delete, Get, Param, Patch, Post, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ProjectsRepository, createProjectWithKeys, issueKey } from '@flywheel/database';
import { KeyCache } from '../auth/key-cache';
import { FlywheelError } from '@flywheel/errors';
import { KeyCreateDto } from '../keys/keys.dto';
import { uuidParam } from '../keys/keys.controller';
import { projectView } from '../keys/keys.service';
import { AdminOnly } from './admin-token.guard';
import { ProjectCreateDto, ProjectSettingsDto } from './admin.dto';
import { ApiErrors } from '../openapi/openapi.decorators';
import { CreatedProjectDto, IssuedKeyDto, ProjectDto, ProjectListDto } from '../keys/keys.responses';
import { DeletionsService } from '../deletions/deletions.service';
import { answer } from '../deletions/deletions.controller';
import { DeletionViewDto, ProjectDeletionDto } from '../deletions/deletions.dto';

/** Operators: projects over HTTP with the admin (bootstrap) token, so only setup needs database access. */
@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/projects')
export class AdminController {
  constructor(private readonly projects: ProjectsRepository, private readonly keyCache: KeyCache, private readonly deletions: DeletionsService) {}

  /** A project with an ingest key and a secret key (shown once). */
  @Post()
  @ApiCreatedResponse({ type: CreatedProjectDto })
  async create(@Body() body: ProjectCreateDto) {
    const created = await createProjectWithKeys(this.projects, body.name, body.featureDim, {
      allowedOrigins: body.allowedOrigins, rateLimits: body.rateLimits, ratingDimensions: body.ratingDimensions,
      eventRetentionDays: body.eventRetentionDays,
    });
    return created;
  }

  @Get()
  @ApiOkResponse({ type: ProjectListDto })
  async list() {
    return { projects: (await this.projects.list()).map(projectView) };
  }

  @Patch(':projectId')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: ProjectDto })
  async update(@Param('projectId', uuidParam('projectId')) projectId: string, @Body() body: ProjectSettingsDto) {
    const project = await this.projects.update(projectId, {
      allowedOrigins: body.allowedOrigins, rateLimits: body.rateLimits, eventRetentionDays: body.eventRetentionDays,
    });
    if (!project) throw new FlywheelError('NOT_FOUND', `no project ${projectId}`);
    this.keyCache.forgetProject(projectId);
    return projectView(project);
  }

  /** Another key for a project (e.g. when its last secret key was lost). */
  @Post(':projectId/keys')
  @ApiErrors('NOT_FOUND')
  @ApiCreatedResponse({ type: IssuedKeyDto })
  async createKey(@Param('projectId', uuidParam('projectId')) projectId: string, @Body() body: KeyCreateDto) {
    const project = await this.projects.find(projectId);
    if (!project || project.deletedAt) throw new FlywheelError('NOT_FOUND', `no project ${projectId}`);
    return issueKey(this.projects, projectId, body.kind);
  }

  /**
   * Deletes a project: from now on its keys are refused with 410 (at once in this api process, within the key-cache
   * TTL in others), its messages still in Kafka go to the dead-letter topics, and a job removes all its data (events,
   * signals, rollups, aggregates, generations, preference sets, models, jobs). 200 when that finished within the
   * request, else 202 with the job (GET /v1/admin/deletions/:jobId). Asking again answers the same job.
   */
  @Delete(':projectId')
  @ApiErrors('NOT_FOUND', 'INTERNAL')
  @ApiResponse({ status: 202, type: ProjectDeletionDto, description: 'Deleted; its data is being removed: poll GET /v1/admin/deletions/:jobId' })
  @ApiOkResponse({ type: ProjectDeletionDto, description: 'Deleted, and its data removed' })
  async remove(@Param('projectId', uuidParam('projectId')) projectId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const view = await this.deletions.deleteProject(projectId);
    if (!view) throw new FlywheelError('NOT_FOUND', `no project ${projectId}`);
    this.keyCache.forgetProject(projectId);
    return { ...answer(reply, view), deleted: true };
  }
}

/** Operators: the job that removes a deleted project's data. */
@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/deletions')
export class AdminDeletionsController {
  constructor(private readonly deletions: DeletionsService) {}

  @Get(':jobId')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: DeletionViewDto })
  show(@Param('jobId', uuidParam('jobId')) jobId: string) {
    return this.deletions.find(jobId);
  }
}
