#!/usr/bin/env node
// The `alova-atomize` command: `alova-atomize inspect (--redis URL | --dir DIR) [--prefix P] [--json] CHANNEL...`.
import { main } from './cli/main.js';

void main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
  // Everything was closed; should a handle still hold the event loop, exit anyway (unref: never delays an exit).
  setTimeout(() => process.exit(code), 1000).unref();
});
