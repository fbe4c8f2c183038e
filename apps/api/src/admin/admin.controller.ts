import { Body, Controller, Delete, Get, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ProjectsRepository, createProjectWithKeys, issueKey } from '@flywheel/database';
import { KeyCache } from '../auth/key-cache';
import { FlywheelError } from '@flywheel/errors';
import { KeyCreateDto } from '../keys/keys.dto';
import { uuidParam } from '../keys/keys.controller';
import { projectView } from '../keys/keys.service';
import { AdminOnly } from './admin-token.guard';
import { ProjectCreateDto, ProjectSettingsDto } from './admin.dto';
import { ApiErrors } from '../openapi/openapi.decorators';
import { CreatedProjectDto, IssuedKeyDto, ProjectDeletedDto, ProjectDto, ProjectListDto } from '../keys/keys.responses';

/** Operators: projects over HTTP with the admin (bootstrap) token, so only setup needs database access. */
@ApiTags('admin')
@AdminOnly()
@Controller('v1/admin/projects')
export class AdminController {
  constructor(private readonly projects: ProjectsRepository, private readonly keyCache: KeyCache) {}

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
   * TTL in others). Its stored data stays until it is purged.
   */
  @Delete(':projectId')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: ProjectDeletedDto })
  async remove(@Param('projectId', uuidParam('projectId')) projectId: string) {
    if (!(await this.projects.markDeleted(projectId))) throw new FlywheelError('NOT_FOUND', `no project ${projectId}`);
    this.keyCache.forgetProject(projectId);
    return { projectId, deleted: true };
  }
}
