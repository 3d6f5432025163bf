/** JSON objects read from the network: one definition of "a JSON object" for every parser here and in the server. */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse text that must hold a JSON object; undefined when it is not JSON, or JSON but not an object. */
export function parseJsonObject(text: string): JsonObject | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isJsonObject(raw) ? raw : undefined;
}

/** Deepest nesting of arrays and objects accepted in data from the network: deeper data cannot be stored and read back safely. */
export const MAX_JSON_DEPTH = 128;

/** Whether `value` nests arrays and objects deeper than `max` levels (iterative: deep input cannot exhaust the stack here). */
export function jsonDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}
