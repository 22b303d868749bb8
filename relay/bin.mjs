#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so the relay needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./app/cli.ts');
process.exitCode = await main(process.argv.slice(2));
// Let stdio drain, then exit: intervals of a stopped relay must not keep the process alive.
setImmediate(() => process.exit());
