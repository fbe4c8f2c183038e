/**
 * The one error body of the api, `{ error: { code, message, details } }`, for every answer ≥ 400 whoever writes it
 * (the exception filter, the text guard, the router's and the HTTP parser's own errors). `details` is always
 * present: the field problems of a VALIDATION_FAILED (`[{ field, problems }]`), otherwise an object of facts,
 * `{}` when there are none. Bodies are capped, whatever the request: at most 20 field problems (the message
 * counts the rest), long names and messages clipped, 8 KiB in all.
 */
export const MAX_ERROR_DETAILS = 20;
export const MAX_ERROR_BODY_BYTES = 8 * 1024;
const MAX_MESSAGE = 500;
const MAX_FIELD = 200;
const MAX_PROBLEM = 300;
const MAX_PROBLEMS_PER_FIELD = 5;
const MAX_FACTS_BYTES = 2048;

export interface ErrorBody {
  error: { code: string; message: string; details: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  const body: ErrorBody = { error: { code, message: clip(message, MAX_MESSAGE), details: capDetails(details, code) } };
  const list = body.error.details;
  while (Array.isArray(list) && list.length > 1 && Buffer.byteLength(JSON.stringify(body)) > MAX_ERROR_BODY_BYTES) list.pop();
  return body;
}

function capDetails(details: unknown, code: string): unknown {
  if (details === undefined || details === null) return code === 'VALIDATION_FAILED' ? [] : {};
  if (Array.isArray(details)) {
    return details.slice(0, MAX_ERROR_DETAILS).map((d: { field?: unknown; problems?: unknown }) => ({
      field: clip(String(d?.field ?? ''), MAX_FIELD),
      problems: (Array.isArray(d?.problems) ? d.problems : []).slice(0, MAX_PROBLEMS_PER_FIELD).map((p: unknown) => clip(String(p), MAX_PROBLEM)),
    }));
  }
  if (typeof details !== 'object') return { value: clip(String(details), MAX_PROBLEM) };
  const text = JSON.stringify(details);
  return text.length > MAX_FACTS_BYTES ? { truncated: `${text.length} characters of details left out` } : details;
}

/** The first `max` characters, not splitting a surrogate pair, with … when cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = (text.charCodeAt(max - 1) & 0xfc00) === 0xd800 ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}
