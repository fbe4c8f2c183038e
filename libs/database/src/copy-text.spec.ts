import { Readable } from 'node:stream';
import { copyTextLines, copyTextPages, copyTextRows, unescapeCopyField, uuidLiteral } from './copy-text';

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
    for await (const page of copyTextPages(Readable.from(chunks))) rows.push(...page);
    expect(rows).toEqual([['1', 'café', null], ['2', 'a\tb', 'x']]);
  });

  it('cuts the stream at line ends, so every chunk parses on its own', async () => {
    const text = Buffer.from('1\tcafé\t\\N\n2\ta\\tb\tx\n3\tz\tq');
    const chunks = [text.subarray(0, 6), text.subarray(6, 15), text.subarray(15)];
    const pieces: string[] = [];
    for await (const piece of copyTextLines(Readable.from(chunks))) pieces.push(piece);
    expect(pieces.every((p) => p.endsWith('\n'))).toBe(true);
    expect(pieces.flatMap(copyTextRows)).toEqual([['1', 'café', null], ['2', 'a\tb', 'x'], ['3', 'z', 'q']]);
  });

  it('lets only a UUID into the SQL', () => {
    expect(uuidLiteral('7d0c4a52-1b1e-4c55-9f3e-0c1f2b3a4d5e')).toBe('7d0c4a52-1b1e-4c55-9f3e-0c1f2b3a4d5e');
    expect(() => uuidLiteral("x'; DROP TABLE preference_pairs; --")).toThrow('not a UUID');
  });
});
