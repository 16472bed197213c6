// The config's JSON Schema, generated from the zod schema (config/schema.json is its committed copy).
import { z } from 'zod';
import { configFileSchema } from './schema.js';

export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configFileSchema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
