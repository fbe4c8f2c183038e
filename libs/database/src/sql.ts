/**
 * TypeORM's postgres driver answers UPDATE/DELETE with `[rows, rowCount]` but INSERT/SELECT with `rows`; this gives
 * the rows either way.
 */
export function rowsOf<T = Record<string, unknown>>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

/** A set id goes into COPY's SQL as a literal (COPY takes no parameters): only a UUID's characters pass. */
export function uuidLiteral(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw new Error(`not a UUID: ${id}`);
  return id;
}
