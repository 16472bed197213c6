#!/usr/bin/env node
// The mdm-discovery command: parses argv, runs one command, sets process.exitCode.
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
