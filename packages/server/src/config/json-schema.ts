/**
 * The JSON Schema of the configuration file, generated from the zod schema
 * (published as docs/config.schema.json; editors validate and complete a
 * config file with it). Regenerate: `npx tidings check-config --json-schema`.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

type Node = { [key: string]: unknown };

/**
 * A section's default is stored parsed (durations in milliseconds), which a
 * file would read as seconds: defaults are kept on plain fields only.
 */
function dropSectionDefaults(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(dropSectionDefaults);
  if (typeof node !== 'object' || node === null) return;
  const n = node as Node;
  if (n.type === 'object' || typeof n.default === 'object') delete n.default;
  for (const v of Object.values(n)) dropSectionDefaults(v);
}

export function configJsonSchema(): Node {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Node;
  dropSectionDefaults(schema);
  return {
    $schema: schema.$schema,
    title: 'Tidings gateway configuration',
    description: 'The JSON file of `tidings serve --config FILE` (docs/configuration.md). Durations are seconds or strings like "500ms", "10s", "5m", "1h".',
    ...schema,
  };
}
