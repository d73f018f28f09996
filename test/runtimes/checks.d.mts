// Types for the runtime-agnostic checks (checks.mjs), as the vitest suite uses them.
export function nanBitsCases(
  g: unknown,
  backends: string[],
  iterations?: number,
): { failures: string[]; bits: string[] };
export function runChecks(g: unknown, fixtures: unknown[]): Promise<Record<string, unknown>>;
