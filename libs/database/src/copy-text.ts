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

/** The text of a COPY stream in chunks that end at a line end (whole rows only). */
export async function* copyTextLines(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + decoder.write(chunk as Buffer);
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      rest = text;
      continue;
    }
    yield text.slice(0, end + 1);
    rest = text.slice(end + 1);
  }
  if (rest) yield `${rest}\n`;
}

/** The fields of each line of a whole-rows chunk (see copyTextLines). */
export function copyTextRows(text: string): (string | null)[][] {
  const lines = text.split('\n');
  lines.pop(); // the chunk ends with a newline
  return lines.map((line) => line.split('\t').map(unescapeCopyField));
}

/** A set id goes into COPY's SQL as a literal (COPY takes no parameters): only a UUID's characters pass. */
export function uuidLiteral(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new Error(`not a UUID: ${id}`);
  return id;
}
