import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import { KeyOwner } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { ScoreRequest, ScoreRequestDto } from './score.dto';
import { ScoreRequestPipe } from './score-request.pipe';
import { ScoringService } from './scoring.service';
import { ApiErrors } from '../openapi/openapi.decorators';

@ApiTags('reward models')
@UseGuards(ApiKeyGuard)
@Controller('v1/score')
export class ScoringController {
  constructor(private readonly scoring: ScoringService) {}

  /** Rewards and the ranking of up to 1,000 candidates from the production reward model. */
  @Post()
  @ApiErrors('CONFLICT')
  @HttpCode(200)
  @RequireKey('secret')
  @ApiBody({ type: ScoreRequestDto })
  score(@Auth() key: KeyOwner, @Body(ScoreRequestPipe) body: ScoreRequest) {
    return this.scoring.score(key.projectId, key.featureDim, body);
  }
}
