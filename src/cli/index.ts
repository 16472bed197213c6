#!/usr/bin/env node
// The mdm-discovery command: reads the environment and .env once, runs one command, sets process.exitCode.
import { loadEnvironment } from './environment.js';
import { run } from './run.js';

process.exitCode = await run(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr },
  loadEnvironment(process.env, process.cwd()),
);
