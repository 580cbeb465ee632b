// npm run bench [-- NAME...]: runs the named benchmarks (all when none) and rewrites their sections of
// bench/README.md. Sizes can be raised with flags; the defaults finish on a 2-core machine.
import { parseArgs } from 'node:util';
import { parseSize } from '../src/config/schema.js';
import { buildBench } from './build.js';
import { scanBench } from './scan.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'scan-size': { type: 'string', default: '4GB' },
    'scan-files': { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    'build-size': { type: 'string', default: '3.1GB' },
    'change-mb': { type: 'string', default: '50' },
  },
});
const names = positionals.length ? positionals : ['scan', 'build'];
const runs = Number(values.runs);
for (const name of names) {
  if (name === 'scan') {
    await scanBench({ size: parseSize(values['scan-size']!)!, files: Number(values['scan-files']), runs });
  } else if (name === 'build') {
    await buildBench({ size: parseSize(values['build-size']!)!, changeMb: Number(values['change-mb']), runs });
  } else {
    throw new Error(`unknown benchmark ${name}; known: scan, build`);
  }
}
