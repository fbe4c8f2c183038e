/**
 * A project's named rating dimensions: a `rate` event may name one of them (or `overall`, or none for the overall
 * rating); any other name is refused at the edge. Declared when the project is created.
 */
export const DEFAULT_RATING_DIMENSIONS: readonly string[] = Object.freeze(['visual_quality', 'motion_quality', 'text_alignment']);
export const MAX_RATING_DIMENSIONS = 16;
const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Problems with a declared list of dimensions (empty when it is valid). */
export function ratingDimensionProblems(dimensions: readonly string[]): string[] {
  const problems: string[] = [];
  if (dimensions.length < 1 || dimensions.length > MAX_RATING_DIMENSIONS) {
    problems.push(`a project declares 1 to ${MAX_RATING_DIMENSIONS} rating dimensions, got ${dimensions.length}`);
  }
  const seen = new Set<string>();
  for (const name of dimensions) {
    if (!NAME.test(name)) problems.push(`dimension "${name}" must be snake_case, e.g. visual_quality`);
    else if (name === 'overall') problems.push('"overall" is the overall rating (a rate event without dimension), not a dimension');
    else if (seen.has(name)) problems.push(`dimension "${name}" is declared twice`);
    seen.add(name);
  }
  return problems;
}

/**
 * Events whose `dimension` the project did not declare, as field problems (`events[3].dimension`). `overall` and no
 * dimension always pass.
 */
export function undeclaredDimensions(
  events: readonly { dimension?: string | null }[],
  declared: readonly string[],
): { field: string; problems: string[] }[] {
  const problems: { field: string; problems: string[] }[] = [];
  events.forEach((e, i) => {
    if (e.dimension && e.dimension !== 'overall' && !declared.includes(e.dimension)) {
      const field = `events[${i}].dimension`;
      problems.push({ field, problems: [`${field} "${e.dimension}" is not a rating dimension of this project (declared: ${declared.join(', ')})`] });
    }
  });
  return problems;
}
