import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { KeyOwner, PreferenceSetsRepository } from '@flywheel/database';
import { ApiKeyGuard, Auth, RequireKey } from '../auth/api-key.guard';
import { validationFailed } from '../errors/validation';
import { ExportQueryDto, GeneratorVersionDto, PreferenceSetCreateDto } from './preference-sets.dto';
import { PreferenceSetsService } from './preference-sets.service';
import { ApiErrors } from '../openapi/openapi.decorators';
import { GeneratorVersionViewDto, PreferenceSetDto, PublicationDto, exportContent } from './preference-sets.responses';

const uuid = new ParseUUIDPipe({ exceptionFactory: () => validationFailed([{ field: 'id', problems: ['id must be a UUID'] }]) });
const publicationUuid = new ParseUUIDPipe({
  exceptionFactory: () => validationFailed([{ field: 'publicationId', problems: ['publicationId must be a UUID'] }]),
});

const header = (description: string, type: 'string' | 'integer' = 'string') => ({ description, schema: { type } });
/** What every export's response says about itself (PreferenceSetsController.export). */
const EXPORT_HEADERS = {
  'X-Flywheel-Set-Id': header('The preference set exported'),
  'X-Flywheel-Content-Sha256': header("The set's content hash (its manifest's contentSha256)"),
  'X-Flywheel-Source': header('The path and query that give these bytes again'),
  'X-Flywheel-Cli': header('The flywheel command that gives these bytes again'),
  'X-Flywheel-Rows': header('Rows of the set the export read (pairs, ranked requests or outcomes), after the split filter', 'integer'),
  'X-Flywheel-Ties': header('Ties among them (tie pairs; neutral outcomes)', 'integer'),
  'X-Flywheel-Ties-Skipped': header('Ties the format leaves out (dpo-jsonl: tie pairs; kto-jsonl: neutral outcomes)', 'integer'),
  'X-Flywheel-Unlabelled-Skipped': header('videoalign-csv without overall: pairs with no VQ/MQ/TA label, left out', 'integer'),
};

@ApiTags('preference sets')
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/preference-sets')
export class PreferenceSetsController {
  constructor(private readonly service: PreferenceSetsService, private readonly sets: PreferenceSetsRepository) {}

  /**
   * Queues an immutable snapshot for the trainer to build (status `queued` → `building` → `ready`, or `failed` with
   * `error`); poll GET /v1/preference-sets/:id until it is ready.
   */
  @Post()
  @HttpCode(202)
  @ApiErrors('INVALID_OPTIONS')
  @ApiAcceptedResponse({ type: PreferenceSetDto })
  create(@Auth() key: KeyOwner, @Body() body: PreferenceSetCreateDto) {
    return this.service.create(key.projectId, body);
  }

  @Get()
  @ApiOkResponse({ type: [PreferenceSetDto], description: 'Newest first' })
  list(@Auth() key: KeyOwner) {
    return this.sets.list(key.projectId);
  }

  @Get(':id')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: PreferenceSetDto })
  show(@Auth() key: KeyOwner, @Param('id', uuid) id: string) {
    return this.service.find(key.projectId, id);
  }

  /**
   * Streams the set in a trainer-ready format; the same set and query always give the same bytes. The headers name
   * the set, its content hash and how to fetch these bytes again, and count what the export holds and leaves out
   * (ties, unlabelled pairs): nothing is dropped silently.
   */
  @Get(':id/export')
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  @ApiOkResponse({ description: 'The set in the asked format (Content-Disposition names the file)', content: exportContent(), headers: EXPORT_HEADERS })
  async export(@Auth() key: KeyOwner, @Param('id', uuid) id: string, @Query() query: ExportQueryDto, @Res() reply: FastifyReply) {
    const { format, ...options } = query;
    const e = await this.service.export(key.projectId, id, format, options);
    void reply.type(e.contentType)
      .header('Content-Disposition', `attachment; filename="${e.filename}"`)
      .header('X-Flywheel-Set-Id', e.setId)
      .header('X-Flywheel-Content-Sha256', e.contentSha256)
      .header('X-Flywheel-Source', e.source)
      .header('X-Flywheel-Cli', e.cli)
      .header('X-Flywheel-Rows', String(e.counts.rows))
      .header('X-Flywheel-Ties', String(e.counts.ties))
      .header('X-Flywheel-Ties-Skipped', String(e.counts.tiesSkipped))
      .header('X-Flywheel-Unlabelled-Skipped', String(e.counts.unlabelledSkipped))
      .send(e.stream);
  }

  /**
   * Queues the set's publication to flywheel.preferences.v1 (one message per pair or ranked list, then a completion
   * marker) for the trainer: 202 with the publication; poll it until `done` (or `failed` with `error`; asking again
   * resumes it). While one is unfinished, asking again answers that one.
   */
  @Post(':id/publish')
  @ApiErrors('NOT_FOUND', 'CONFLICT')
  @ApiAcceptedResponse({ type: PublicationDto })
  @HttpCode(202)
  publish(@Auth() key: KeyOwner, @Param('id', uuid) id: string) {
    return this.service.publish(key.projectId, id);
  }

  /** The set's publications, newest first. */
  @Get(':id/publications')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: [PublicationDto] })
  publications(@Auth() key: KeyOwner, @Param('id', uuid) id: string) {
    return this.service.publicationList(key.projectId, id);
  }

  @Get(':id/publications/:publicationId')
  @ApiErrors('NOT_FOUND')
  @ApiOkResponse({ type: PublicationDto })
  publication(@Auth() key: KeyOwner, @Param('id', uuid) id: string, @Param('publicationId', publicationUuid) publicationId: string) {
    return this.service.publication(key.projectId, id, publicationId);
  }
}

@ApiTags('generators')
@UseGuards(ApiKeyGuard)
@RequireKey('secret')
@Controller('v1/generators')
export class GeneratorsController {
  constructor(private readonly sets: PreferenceSetsRepository) {}

  /** Registers a generator version with the preference sets it was trained on (its lineage). */
  @Post()
  @ApiCreatedResponse({ type: GeneratorVersionViewDto })
  async register(@Auth() key: KeyOwner, @Body() body: GeneratorVersionDto) {
    for (const setId of body.trainedOn ?? []) {
      if (!(await this.sets.find(key.projectId, setId))) throw validationFailed([{ field: 'trainedOn', problems: [`trainedOn: no preference set ${setId} in this project`] }]);
    }
    return this.sets.registerGeneratorVersion(key.projectId, { ...body, trainedOn: body.trainedOn ?? [] });
  }

  @Get()
  @ApiOkResponse({ type: [GeneratorVersionViewDto] })
  list(@Auth() key: KeyOwner) {
    return this.sets.generatorVersions(key.projectId);
  }
}
