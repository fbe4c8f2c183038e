import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { KeyOwner } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { FlywheelError } from '@flywheel/errors';
import { KeyCreateDto, KeyRotateDto, ProjectOriginsDto } from './keys.dto';
import { KeysService } from './keys.service';
import { ApiErrors } from '../openapi/openapi.decorators';
import { IssuedKeyDto, KeyListDto, KeyRevokedDto, ProjectDto, RotatedKeyDto } from './keys.responses';

/** A path id that is not a UUID is a 400 naming the parameter. */
export const uuidParam = (name: string) => new ParseUUIDPipe({
  exceptionFactory: () => new FlywheelError('VALIDATION_FAILED', `${name} must be a UUID`, { details: [{ field: name, problems: [`${name} must be a UUID`] }] }),
});

@ApiTags('project')
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/project')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** The project's keys: prefix, kind, created, last used (approximate: once per key-cache TTL), expiry, revocation. */
  @Get('keys')
  @ApiOkResponse({ type: KeyListDto })
  list(@Auth() key: KeyOwner) {
    return this.keys.list(key.projectId);
  }

  /** Issues another key; the plain key is shown once, only its hash is stored. */
  @Post('keys')
  @ApiCreatedResponse({ type: IssuedKeyDto })
  create(@Auth() key: KeyOwner, @Body() body: KeyCreateDto) {
    return this.keys.create(key.projectId, body.kind);
  }

  @Delete('keys/:keyId')
  @ApiResponse({ status: 409, description: "Refused: it is the project's last active secret key" })
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  @ApiOkResponse({ type: KeyRevokedDto })
  revoke(@Auth() key: KeyOwner, @Param('keyId', uuidParam('keyId')) keyId: string) {
    return this.keys.revoke(key.projectId, keyId);
  }

  /** A new key of the same kind; the old one keeps working for `overlapSeconds` (default a day). */
  @Post('keys/:keyId/rotate')
  @ApiErrors('NOT_FOUND')
  @ApiCreatedResponse({ type: RotatedKeyDto })
  rotate(@Auth() key: KeyOwner, @Param('keyId', uuidParam('keyId')) keyId: string, @Body() body: KeyRotateDto) {
    return this.keys.rotate(key.projectId, keyId, body.overlapSeconds ?? 86400);
  }

  /** Browser origins allowed to post events with this project's ingest keys (null: the api's default). */
  @Patch()
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: ProjectDto })
  @HttpCode(200)
  settings(@Auth() key: KeyOwner, @Body() body: ProjectOriginsDto) {
    return this.keys.updateOrigins(key.projectId, body.allowedOrigins);
  }
}
