#!/usr/bin/env node
// Thin launcher so the `tidings` bin link exists before the first build.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`tidings: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  },
);
