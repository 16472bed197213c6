// Writes config/schema.json from the zod schema, so editors autocomplete config files.
import { writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/json-schema.js';

const target = new URL('../config/schema.json', import.meta.url);
writeFileSync(target, configJsonSchema());
process.stdout.write(`wrote ${target.pathname}\n`);
