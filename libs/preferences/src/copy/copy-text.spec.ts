import { Readable } from 'node:stream';
import { copyRowBatches, copyTextRows, unescapeCopyField } from './copy-text';

describe('COPY text format', () => {
  it('unescapes fields and reads \\N as NULL', () => {
    expect(unescapeCopyField('\\N')).toBeNull();
    expect(unescapeCopyField('a\\tb\\nc\\\\d')).toBe('a\tb\nc\\d');
    expect(unescapeCopyField('plain "text", with commas')).toBe('plain "text", with commas');
  });

  it('splits rows across chunk boundaries, multi-byte characters included', async () => {
    const text = Buffer.from('1\tcafé\t\\N\n2\ta\\tb\tx\n');
    const chunks = [text.subarray(0, 6), text.subarray(6, 11), text.subarray(11)]; // 6 falls inside 'é'
    const rows = [];
    for await (const batch of copyRowBatches(Readable.from(chunks), 1)) rows.push(...copyTextRows(batch.toString('utf8')));
    expect(rows).toEqual([['1', 'café', null], ['2', 'a\tb', 'x']]);
  });

  it('cuts the stream into batches of whole rows, multi-byte characters and chunk edges included', async () => {
    const text = Buffer.from('1\tcafé\t\\N\n2\ta\\tb\tx\n3\tz\tq\n4\t🐈\tw\n5\tv\tu\n');
    // Every way of cutting the bytes into three chunks (cuts inside 'é' and '🐈' included) gives the same batches.
    for (let i = 1; i < text.length - 1; i += 3) {
      for (let j = i + 1; j < text.length; j += 2) {
        const chunks = [text.subarray(0, i), text.subarray(i, j), text.subarray(j)];
        const batches: Buffer[] = [];
        for await (const batch of copyRowBatches(Readable.from(chunks), 2)) batches.push(batch);
        expect(batches.map((b) => copyTextRows(b.toString('utf8')).length)).toEqual([2, 2, 1]);
        expect(batches.flatMap((b) => copyTextRows(b.toString('utf8')))).toEqual([
          ['1', 'café', null], ['2', 'a\tb', 'x'], ['3', 'z', 'q'], ['4', '🐈', 'w'], ['5', 'v', 'u'],
        ]);
        // Each batch owns its memory, so it can be transferred to a worker thread without detaching anything else.
        expect(batches.every((b) => b.byteOffset === 0 && b.buffer.byteLength === b.length)).toBe(true);
      }
    }
  });

  it('gives no batch for an empty stream and a short last batch', async () => {
    const collect = async (chunks: Buffer[], rows: number) => {
      const out: string[] = [];
      for await (const batch of copyRowBatches(Readable.from(chunks), rows)) out.push(batch.toString());
      return out;
    };
    await expect(collect([], 3)).resolves.toEqual([]);
    await expect(collect([Buffer.from('a\nb\nc\nd\n')], 3)).resolves.toEqual(['a\nb\nc\n', 'd\n']);
    await expect(collect([Buffer.from('a\nb\n')], 1)).resolves.toEqual(['a\n', 'b\n']);
  });
});
