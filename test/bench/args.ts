/** `--<name> <n>` from a benchmark's argv: a positive number, rounded; `fallback` when the flag is absent. */
export function positiveArg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const parsed = Number(argv[i + 1]);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} needs a positive number`);
  return Math.round(parsed);
}
