import { Injectable, PipeTransform } from '@nestjs/common';
import { FeedbackEventInput, parseFeedbackBatch } from '@flywheel/contracts';
import { validationFailed } from '../errors/validation';

/** Validates POST /v1/events with the contract's one-pass parser (the global ValidationPipe skips interfaces). */
@Injectable()
export class FeedbackBatchPipe implements PipeTransform<unknown, FeedbackEventInput[]> {
  transform(body: unknown): FeedbackEventInput[] {
    const parsed = parseFeedbackBatch(body);
    if (!parsed.ok) throw validationFailed(parsed.problems);
    return parsed.events;
  }
}
