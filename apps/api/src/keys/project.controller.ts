import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { KeyOwner, ProjectsRepository } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { projectView } from './keys.service';
import { ProjectInfoDto } from './keys.responses';

@ApiTags('project')
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/project')
export class ProjectController {
  constructor(private readonly projects: ProjectsRepository) {}

  @Get()
  @ApiOkResponse({ type: ProjectInfoDto })
  async show(@Auth() key: KeyOwner) {
    const project = await this.projects.find(key.projectId);
    return { id: project!.id, ...projectView(project!), events: await this.projects.eventCount(key.projectId) };
  }
}
