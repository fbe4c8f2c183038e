import type { DerivedDeltas, IngestTransaction } from '@flywheel/database';
import { ROLLUP_COUNTERS } from '@flywheel/satisfaction';
import { RollupAccumulator, applyDerivedDeltas, chunkDeltas } from './signal-pipeline';

const key = { projectId: 'p', videoId: 'v', userHash: 'u' };
const dims = { model: 'm', modelVersion: '1', category: 'c', segment: 's' };
const contribution = (viewers = 1) => Float64Array.from(ROLLUP_COUNTERS, (_, i) => (i === 0 ? viewers : 0));

/** A transaction that records which writers were called. */
function recordingTx() {
  const calls: string[] = [];
  const tx = {
    applyRollupDeltas: async () => void calls.push('rollups'),
    applyDimensionDeltas: async () => void calls.push('dimensions'),
  } as unknown as IngestTransaction;
  return { tx, calls };
}

describe('per-dimension deltas: written only when a batch touches dimension ratings', () => {
  it('rows without dimension ratings give no dimension deltas, and no dimension statement', async () => {
    const acc = new RollupAccumulator('v2');
    acc.add(key, 0, dims, contribution(), 1, {});
    acc.add({ ...key, userHash: 'w' }, 0, dims, contribution(), 1);
    const deltas = acc.deltas();
    expect(deltas.rollups).toHaveLength(1);
    expect(deltas.dimensions).toEqual({ rollups: [], videos: [], users: [] });
    const { tx, calls } = recordingTx();
    await applyDerivedDeltas(tx, deltas);
    expect(calls).toEqual(['rollups']);
  });

  it('a refold that leaves the ratings as they were (a like on a rated row) cancels exactly: no statement', async () => {
    const acc = new RollupAccumulator('v2');
    const ratings = { visual_quality: 4, text_alignment: 2 };
    acc.add(key, 0, dims, contribution(), -1, ratings);
    acc.add(key, 0, dims, contribution(), 1, { ...ratings });
    expect(acc.deltas().dimensions).toEqual({ rollups: [], videos: [], users: [] });
    const { tx, calls } = recordingTx();
    await applyDerivedDeltas(tx, acc.deltas());
    expect(calls).toEqual(['rollups']);
  });

  it('a changed rating moves (rated, Σ rating, Σ rating²) by new − old, per rollup row, video and user', async () => {
    const acc = new RollupAccumulator('v2');
    acc.add(key, 0, dims, contribution(), -1, { visual_quality: 2 });
    acc.add(key, 0, dims, contribution(), 1, { visual_quality: 5, motion_quality: 3 });
    const d = acc.deltas().dimensions!;
    const byDimension = (list: { dimension: string; values: Float64Array }[]) => Object.fromEntries(list.map((x) => [x.dimension, [...x.values]]));
    expect(byDimension(d.rollups)).toEqual({ visual_quality: [0, 3, 21], motion_quality: [1, 3, 9] });
    expect(byDimension(d.videos)).toEqual(byDimension(d.rollups));
    expect(byDimension(d.users)).toEqual(byDimension(d.rollups));
    expect(d.videos.map((v) => v.videoId)).toEqual(['v', 'v']);
    expect(d.users.map((u) => [u.userHash, u.model, u.modelVersion])).toEqual([['u', 'm', '1'], ['u', 'm', '1']]);
    const { tx, calls } = recordingTx();
    await applyDerivedDeltas(tx, acc.deltas());
    expect(calls).toEqual(['rollups', 'dimensions']);
  });

  it('a row re-attributed to its generation moves its ratings from the unattributed group', () => {
    const acc = new RollupAccumulator('v2');
    const none = { model: '', modelVersion: '', category: '', segment: '' };
    acc.add(key, 0, none, contribution(), -1, { text_alignment: 4 });
    acc.add(key, 0, dims, contribution(), 1, { text_alignment: 4 });
    const rows = acc.deltas().dimensions!.rollups.map((r) => [r.model, [...r.values]]);
    expect(rows).toEqual([['', [-1, -4, -16]], ['m', [1, 4, 16]]]);
  });

  it('chunks every table, the dimension ones included', () => {
    const acc = new RollupAccumulator('v2');
    for (let i = 0; i < 5; i++) acc.add({ ...key, videoId: `v${i}` }, i * 3_600_000, dims, contribution(), 1, { visual_quality: 3 });
    const chunks = chunkDeltas(acc.deltas(), 2);
    expect(chunks).toHaveLength(3);
    const total = (pick: (d: DerivedDeltas) => unknown[]) => chunks.reduce((n, c) => n + pick(c).length, 0);
    expect(total((c) => c.dimensions!.rollups)).toBe(5);
    expect(total((c) => c.dimensions!.videos)).toBe(5);
    expect(total((c) => c.dimensions!.users)).toBe(1);
    expect(total((c) => c.videos)).toBe(5);
  });
});
