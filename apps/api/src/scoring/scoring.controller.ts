import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { KeyOwner } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { RewardsRequest, RewardsRequestDto, RewardsResponseDto, ScoreRequest, ScoreRequestDto } from './score.dto';
import { RewardsRequestPipe, ScoreRequestPipe } from './score-request.pipe';
import { ScoringService } from './scoring.service';
import { ApiErrors } from '../openapi/openapi.decorators';
import { ScoreResponseDto } from './score.responses';

@ApiTags('reward models')
@UseGuards(ApiKeyGuard)
@Controller('v1')
export class ScoringController {
  constructor(private readonly scoring: ScoringService) {}

  /** Rewards and the ranking of up to 1,000 candidates from the production reward model. */
  @Post('score')
  @ApiErrors('CONFLICT')
  @ApiOkResponse({ type: ScoreResponseDto })
  @HttpCode(200)
  @RequireKey('secret')
  @ApiBody({ type: ScoreRequestDto })
  score(@Auth() key: KeyOwner, @Body(ScoreRequestPipe) body: ScoreRequest) {
    return this.scoring.score(key.projectId, key.featureDim, body);
  }

  /**
   * Overall and per-dimension rewards of a batch of up to 2,048 rollouts (features or video ids) from the production
   * reward model (or `modelId`), optionally with advantages normalised within each `group`: for online RL trainers.
   */
  @Post('rewards')
  @ApiErrors('CONFLICT')
  @HttpCode(200)
  @RequireKey('secret')
  @ApiBody({ type: RewardsRequestDto })
  @ApiOkResponse({ type: RewardsResponseDto })
  rewards(@Auth() key: KeyOwner, @Body(RewardsRequestPipe) body: RewardsRequest) {
    return this.scoring.rewards(key.projectId, key.featureDim, body);
  }
}

