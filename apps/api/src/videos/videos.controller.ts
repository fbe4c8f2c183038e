import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { KeyOwner, VideosRepository } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { FlywheelError } from '@flywheel/errors';
import { ApiErrors } from '../openapi/openapi.decorators';
import { DimensionRatingDto, VideoDto } from './videos.responses';

@ApiTags('videos')
@ApiExtraModels(DimensionRatingDto)
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/videos')
export class VideosController {
  constructor(private readonly videos: VideosRepository) {}

  /** The generation and a summary of users' current signals on it. */
  @Get(':videoId')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: VideoDto })
  async show(@Auth() key: KeyOwner, @Param('videoId') videoId: string) {
    const video = await this.videos.video(key.projectId, videoId);
    if (!video) throw new FlywheelError('NOT_FOUND', `no video ${videoId} in this project`);
    return video;
  }
}
