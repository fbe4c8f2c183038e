import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, TransformFnParams } from 'class-transformer';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsDefined, IsIn, IsInt, IsOptional, IsString, Length, Max, Min, ValidationOptions,
  registerDecorator,
} from 'class-validator';
import { MAX_ID_LENGTH } from '@flywheel/contracts';
import { Granularity, METRIC_DIMENSIONS, MetricDimension } from '@flywheel/database';

const MAX_FILTER_VALUES = 50;
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** `a,b` and `x=a&x=b` both give ['a', 'b']; blanks are dropped, so `category=` does not filter. */
function toList({ value }: TransformFnParams): unknown {
  if (value === undefined || value === null) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]));
  return items.map((v) => (typeof v === 'string' ? v.trim() : v)).filter((v) => v !== '');
}

/** A query parameter given twice where one value is expected is an error, not "the last one wins". */
function single({ value }: TransformFnParams): unknown {
  return Array.isArray(value) ? (value.length === 1 ? value[0] : value) : value;
}

/** Digits become a number; anything else stays as given, for IsInt to name the field. */
function integer(params: TransformFnParams): unknown {
  const value = single(params);
  return typeof value === 'string' && /^-?\d{1,9}$/.test(value.trim()) ? Number(value) : value;
}

/** Milliseconds of an ISO-8601 date (UTC midnight) or timestamp with a zone; null if malformed or not a real day. */
export function parseInstant(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const m = INSTANT.exec(value);
  if (!m) return null;
  const [y, mo, d, hh = 0, mm = 0, ss = 0] = m.slice(1).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || hh > 23 || mm > 59 || ss > 59) return null;
  const ms = Date.parse(m[4] === undefined ? `${value}T00:00:00Z` : value);
  return Number.isNaN(ms) ? null : ms;
}

function IsQueryInstant(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isQueryInstant',
    target: target.constructor,
    propertyName: propertyName as string,
    options,
    validator: {
      validate: (value: unknown) => parseInstant(value) !== null,
      defaultMessage: (args) => `${args?.property} must be an ISO-8601 date or a timestamp with a time zone, e.g. 2026-11-01 or 2026-11-01T12:00:00Z`,
    },
  });
}

const listOf = (name: string) => [
  Transform(toList),
  IsOptional(),
  IsArray(),
  ArrayMaxSize(MAX_FILTER_VALUES, { message: `${name} takes at most ${MAX_FILTER_VALUES} values` }),
  IsString({ each: true }),
  Length(1, MAX_ID_LENGTH, { each: true, message: `each ${name} value must be 1–${MAX_ID_LENGTH} characters` }),
];

/** Applied in list order: class-validator checks the first-applied constraint first (IsArray before the values). */
function ListFilter(name: string): PropertyDecorator {
  return (target, key) => listOf(name).forEach((decorate) => decorate(target, key));
}

/** `?dimension=`: one of the project's rating dimensions (checked against them by the service: a 400 naming it). */
function RatingDimension(what: string): PropertyDecorator {
  return (target, key) => [
    ApiPropertyOptional({
      type: String, example: 'text_alignment',
      description: `A rating dimension the project declared (GET /v1/project: ratingDimensions): ${what}. An undeclared name is a 400.`,
    }),
    Transform(single), IsOptional(),
    IsString({ message: 'dimension must be one rating dimension' }),
    Length(1, 64, { message: 'dimension must be 1–64 characters' }),
  ].forEach((decorate) => decorate(target, key));
}

/** The time window: rollup hours in [from, to). */
export class MetricsWindowDto {
  @ApiPropertyOptional({
    description: 'Start, inclusive, rounded down to the hour (rows count in the hour of their first event). Default: 7 days before `to`.',
    example: '2026-11-01T00:00:00Z',
  })
  @Transform(single) @IsOptional() @IsQueryInstant()
  from?: string;

  @ApiPropertyOptional({ description: 'End, exclusive, rounded up to the hour. Default: now.', example: '2026-11-08T00:00:00Z' })
  @Transform(single) @IsOptional() @IsQueryInstant()
  to?: string;
}

export class SatisfactionQueryDto extends MetricsWindowDto {
  @ApiPropertyOptional({ enum: ['hour', 'day'], default: 'day', description: 'UTC buckets. `hour` allows windows up to 31 days.' })
  @Transform(single) @IsOptional() @IsIn(['hour', 'day'], { message: 'granularity must be hour or day' })
  granularity?: Granularity;

  @ApiPropertyOptional({
    type: String, example: 'modelVersion,category',
    description: 'Comma-separated subset of model, modelVersion, category, segment. Grouping by modelVersion also groups by model (versions belong to a model).',
  })
  @Transform(toList) @IsOptional() @IsArray()
  @IsIn(METRIC_DIMENSIONS, { each: true, message: `groupBy must be a comma-separated subset of: ${METRIC_DIMENSIONS.join(', ')}` })
  groupBy?: MetricDimension[];

  @ApiPropertyOptional({ type: String, description: 'Filter; repeat the parameter or give a comma list' }) @ListFilter('model')
  model?: string[];

  @ApiPropertyOptional({ type: String, description: 'Filter; repeat the parameter or give a comma list' }) @ListFilter('modelVersion')
  modelVersion?: string[];

  @ApiPropertyOptional({ type: String, description: 'Filter; repeat the parameter or give a comma list; `(unknown)` selects rows without one' }) @ListFilter('category')
  category?: string[];

  @ApiPropertyOptional({ type: String, description: 'Audience segment filter; repeat the parameter or give a comma list' }) @ListFilter('segment')
  segment?: string[];

  @RatingDimension("the answer's metrics are that dimension's (mean rating and satisfaction over the viewers who rated it, n = those viewers)")
  dimension?: string;
}

const MAX_ARM_LENGTH = 2 * MAX_ID_LENGTH + 1;

/** `true` / `false` (also 1 / 0); anything else stays as given, for IsBoolean to name the field. */
function boolean(params: TransformFnParams): unknown {
  const value = single(params);
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
}

/** `50:50`, `90:10`, `1:3`: two positive numbers, baseline:candidate. */
export function parseSplit(value: unknown): [number, number] | null {
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(value);
  if (!m) return null;
  const split: [number, number] = [Number(m[1]), Number(m[2])];
  return split.every((x) => x > 0 && Number.isFinite(x)) ? split : null;
}

function IsSplit(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => registerDecorator({
    name: 'isSplit',
    target: target.constructor,
    propertyName: propertyName as string,
    options,
    validator: {
      validate: (value: unknown) => parseSplit(value) !== null,
      defaultMessage: (args) => `${args?.property} must be two positive numbers baseline:candidate, e.g. 50:50 or 90:10`,
    },
  });
}

export class CompareQueryDto extends MetricsWindowDto {
  @ApiProperty({
    description: 'The generator to compare against: `model:version` (any two generators can be compared), or a bare '
      + 'version name, which means that version in every model (narrowed by `model`). Split at the first colon.',
    example: 'seedance:1.0',
  })
  @Transform(single) @IsDefined({ message: 'baseline is required: the model:version to compare against' })
  @Length(1, MAX_ARM_LENGTH, { message: `baseline must be 1–${MAX_ARM_LENGTH} characters` }) @IsString({ message: 'baseline must be one model:version' })
  baseline: string;

  @ApiProperty({ description: 'The generator compared with the baseline (`model:version` or a bare version); differences are candidate − baseline', example: 'veo:3' })
  @Transform(single) @IsDefined({ message: 'candidate is required: the model:version compared with the baseline' })
  @Length(1, MAX_ARM_LENGTH, { message: `candidate must be 1–${MAX_ARM_LENGTH} characters` }) @IsString({ message: 'candidate must be one model:version' })
  candidate: string;

  @ApiPropertyOptional({
    type: Boolean, default: false,
    description: 'false (default): always-valid intervals and p-values (mixture SPRT), valid however often the '
      + 'comparison is looked at; true: the classical fixed-horizon test, for one pre-planned analysis.',
  })
  @Transform(boolean) @IsOptional() @IsBoolean({ message: 'fixedHorizon must be true or false' })
  fixedHorizon?: boolean;

  @ApiPropertyOptional({
    default: 5000, minimum: 100,
    description: 'Tuning N* of the always-valid mixture: the total viewers (both arms) at which its interval is tightest.',
  })
  @Transform(integer) @IsOptional() @Max(100_000_000) @Min(100) @IsInt({ message: 'sequentialTuning must be an integer' })
  sequentialTuning?: number;

  @ApiPropertyOptional({
    type: String, example: '50:50',
    description: 'Intended traffic split baseline:candidate; the answer then carries a sample-ratio-mismatch test.',
  })
  @Transform(single) @IsOptional() @IsSplit()
  expectedSplit?: string;

  @ApiPropertyOptional({ type: String, description: 'Restrict to these models (when versions of different models share a name)' }) @ListFilter('model')
  model?: string[];

  @ApiPropertyOptional({ type: String, description: 'Filter; repeat the parameter or give a comma list; `(unknown)` selects rows without one' }) @ListFilter('category')
  category?: string[];

  @ApiPropertyOptional({ type: String, description: 'Filter; repeat the parameter or give a comma list; `(unknown)` selects rows without one' }) @ListFilter('segment')
  segment?: string[];

  @RatingDimension("compares that dimension's mean rating and satisfaction (n: viewers who rated it)")
  dimension?: string;
}

export class VideosQueryDto extends MetricsWindowDto {
  @ApiPropertyOptional({ type: String, description: 'Only videos of these categories; `(unknown)`: none given' }) @ListFilter('category')
  category?: string[];

  @ApiPropertyOptional({ type: String, description: 'Only videos of these segments; `(unknown)`: none given' }) @ListFilter('segment')
  segment?: string[];

  @ApiPropertyOptional({ type: String, description: 'Only videos of these model versions' }) @ListFilter('modelVersion')
  modelVersion?: string[];

  @ApiPropertyOptional({ type: String, description: 'Only videos of these models' }) @ListFilter('model')
  model?: string[];

  @ApiPropertyOptional({ default: 10, minimum: 1, maximum: 100, description: 'Videos in each of the best and worst lists' })
  @Transform(integer) @IsOptional() @Max(100) @Min(1) @IsInt({ message: 'limit must be an integer' })
  limit?: number;

  @ApiPropertyOptional({ default: 1, minimum: 1, description: 'Ignore videos with fewer scored viewers in the window' })
  @Transform(integer) @IsOptional() @Max(1_000_000) @Min(1) @IsInt({ message: 'minViewers must be an integer' })
  minViewers?: number;

  @RatingDimension('videos ranked by that dimension\'s mean rating (1–5) over the viewers who rated it (n, minViewers count them)')
  dimension?: string;
}

/** The two sides of a declared traffic split, as compare takes them. */
export class TrafficSplitPairDto {
  @ApiProperty({ description: 'The baseline side: `model:version` or a bare version, as compare\'s `baseline`', example: 'seedance:1.0' })
  @Transform(single) @IsDefined({ message: 'baseline is required: the model:version compare takes as baseline' })
  @Length(1, MAX_ARM_LENGTH, { message: `baseline must be 1–${MAX_ARM_LENGTH} characters` }) @IsString({ message: 'baseline must be one model:version' })
  baseline: string;

  @ApiProperty({ description: 'The candidate side, as compare\'s `candidate`', example: 'seedance:2.0' })
  @Transform(single) @IsDefined({ message: 'candidate is required: the model:version compare takes as candidate' })
  @Length(1, MAX_ARM_LENGTH, { message: `candidate must be 1–${MAX_ARM_LENGTH} characters` }) @IsString({ message: 'candidate must be one model:version' })
  candidate: string;
}

export class TrafficSplitBodyDto extends TrafficSplitPairDto {
  @ApiProperty({ type: String, example: '50:50', description: 'Intended traffic split baseline:candidate (relative weights: 50:50, 9:1)' })
  @IsDefined({ message: 'split is required: the intended traffic split baseline:candidate, e.g. 50:50' }) @IsSplit()
  split: string;
}
