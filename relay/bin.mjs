#!/usr/bin/env -S node --max-semi-space-size=4
// Runs the TypeScript sources through tsx, so the relay needs no build step.
// --max-semi-space-size=4 (also in package.json's start and the systemd unit): the relay's young generation stays at
// 4 MiB semi-spaces instead of V8's 16; its frames are Buffers outside the heap, so this costs no measurable CPU and
// keeps about 20 MiB less resident (bench/RESULTS.md, start-up memory).
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// tsx compiles modules on a hooks thread of its own, idle once the relay runs; a small young generation there keeps
// about 12 MiB of empty semi-space from staying resident. The flag is read when that thread's heap is made, inside
// register(); 0 gives later heaps V8's default again (the main thread's heap exists already and keeps its own).
setFlagsFromString('--max-semi-space-size=1');
register();
setFlagsFromString('--max-semi-space-size=0');
const { main } = await import('./app/cli.ts');
process.exitCode = await main(process.argv.slice(2));
// Let stdio drain, then exit: intervals of a stopped relay must not keep the process alive.
setImmediate(() => process.exit());
