import { Controller, Get, Post, Body, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { KeyKind, KeyOwner, ProjectsRepository, ReadRepository, issueKey } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';

export class KeyCreateDto {
  @ApiProperty({ enum: ['ingest', 'secret'] }) @IsIn(['ingest', 'secret']) kind: KeyKind;
}

@ApiTags('project')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/project')
export class ProjectController {
  constructor(private readonly projects: ProjectsRepository, private readonly reads: ReadRepository) {}

  @Get()
  async show(@Auth() key: KeyOwner) {
    const project = await this.projects.find(key.projectId);
    return { ...project, events: await this.reads.eventCount(key.projectId) };
  }

  /** Issues another key; the plain key is shown once, only its hash is stored. */
  @Post('keys')
  createKey(@Auth() key: KeyOwner, @Body() body: KeyCreateDto) {
    return issueKey(this.projects, key.projectId, body.kind);
  }
}
