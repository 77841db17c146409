/** The modules a TypeScript file imports or re-exports as values (`import type` left out). */
import { readFileSync } from 'node:fs';

export function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
}
