import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** Undoes COPY's text-format escaping of one field (`\N` is NULL). */
export function unescapeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}

/**
 * Splits a `COPY … TO STDOUT` (text format) stream into rows of unescaped fields, across chunk boundaries; yields
 * the complete rows of each network chunk together (a page), so consumers pay one await per chunk, not per row.
 */
export async function* copyTextPages(stream: Readable): AsyncGenerator<(string | null)[][]> {
  const decoder = new StringDecoder('utf8'); // a chunk may end inside a multi-byte character
  let rest = '';
  for await (const chunk of stream) {
    const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
    rest = lines.pop()!;
    if (lines.length) yield lines.map((line) => line.split('\t').map(unescapeCopyField));
  }
  if (rest) yield [rest.split('\t').map(unescapeCopyField)];
}

/** A set id goes into COPY's SQL as a literal (COPY takes no parameters): only a UUID's characters pass. */
export function uuidLiteral(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new Error(`not a UUID: ${id}`);
  return id;
}
