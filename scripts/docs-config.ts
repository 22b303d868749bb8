// Writes docs/configuration.md from the directive table in conf/ (npm run docs:config).
import { writeFileSync } from 'node:fs';
import { renderConfigurationReference } from '../conf/reference.ts';

const target = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(target, renderConfigurationReference());
process.stdout.write(`wrote ${target.pathname}\n`);
