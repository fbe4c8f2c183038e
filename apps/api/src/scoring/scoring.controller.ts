import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { KeyOwner } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { ScoreRequestDto } from './score.dto';
import { ScoringService } from './scoring.service';

@ApiTags('reward models')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('v1/score')
export class ScoringController {
  constructor(private readonly scoring: ScoringService) {}

  /** Rewards and the ranking of up to 1,000 candidates from the production reward model. */
  @Post()
  @HttpCode(200)
  @RequireKey('secret')
  score(@Auth() key: KeyOwner, @Body() body: ScoreRequestDto) {
    return this.scoring.score(key.projectId, key.featureDim, body);
  }
}
