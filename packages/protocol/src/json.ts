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
