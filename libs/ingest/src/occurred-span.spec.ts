import { emptySignalRecord } from '@flywheel/contracts';
import { occurredSpan } from './signal-pipeline';

describe('occurredSpan', () => {
  const record = (first: number | null, last: number | null) => ({ ...emptySignalRecord(), firstEventAt: first, lastEventAt: last });

  it('spans the earliest first and the latest last event of the records', () => {
    expect(occurredSpan([record(5_000, 9_000), record(1_000, 2_000), record(3_000, 12_000)])).toEqual({ fromMs: 1_000, toMs: 12_000 });
  });

  it('assumes nothing when a record does not say when its events happened, or there is no record', () => {
    expect(occurredSpan([record(1_000, 2_000), record(null, null)])).toBeNull();
    expect(occurredSpan([record(1_000, null)])).toBeNull();
    expect(occurredSpan([])).toBeNull();
  });
});
