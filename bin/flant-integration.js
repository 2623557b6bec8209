#!/usr/bin/env node
// Entry point of the `flant-integration` command; the program is built into dist/ by `npm ci`.
import { main } from '../dist/src/cmd/cli.js';

process.exitCode = await main(process.argv.slice(2), process.env);
