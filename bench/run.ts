// npm run bench [-- NAME...]: runs the named benchmarks (scan and build when none) and rewrites their sections of
// bench/README.md. Sizes can be raised with flags; the defaults finish on a 2-core machine.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseSize } from '../src/config/schema.js';
import { buildBench } from './build.js';
import { compareBench } from './compare.js';
import { freshHostBench } from './fresh-host.js';
import { manyFilesBench } from './many-files.js';
import { peersBench } from './peers.js';
import { PRESETS, presetFiles, writeCompareReport, type Preset } from './compare-report.js';
import { scanBench } from './scan.js';
import { steadyBench } from './steady.js';
import { writeSteadyReport } from './steady-report.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'scan-size': { type: 'string', default: '4GB' },
    'scan-files': { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    'curve-runs': { type: 'string', default: '1' },
    'build-size': { type: 'string', default: '3.1GB' },
    'change-mb': { type: 'string', default: '50' },
    full: { type: 'boolean', default: false },
    'compare-sizes': { type: 'string' },
    'compare-large': { type: 'boolean', default: false },
    'compare-main': { type: 'string' },
    'compare-changes': { type: 'string' },
    'compare-small-files': { type: 'string' },
    'steady-size': { type: 'string', default: '3.1GB' },
    updates: { type: 'string', default: '30' },
    'steady-seed': { type: 'string', default: 'steady' },
    'fresh-size': { type: 'string', default: '500MB' },
    'many-files': { type: 'string', default: '100000' },
    'many-files-size': { type: 'string', default: '400MB' },
    'many-files-baseline': { type: 'string' },
    'many-files-empty': { type: 'string' },
    'peers-size': { type: 'string', default: '200MB' },
  },
});

function size(flag: string, v: string): number {
  const n = parseSize(v);
  if (n === undefined) throw new Error(`--${flag} ${v}: expected a size such as 500MB or 3.1GB`);
  return n;
}

function positiveNumber(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--${flag} ${v}: expected a number above 0`);
  return n;
}

const names = positionals.length ? positionals : ['scan', 'build'];
const runs = positiveNumber('runs', values.runs!);
for (const name of names) {
  if (name === 'scan') {
    await scanBench({ size: size('scan-size', values['scan-size']!), files: Number(values['scan-files']), runs });
  } else if (name === 'build') {
    await buildBench({ size: size('build-size', values['build-size']!), changeMb: Number(values['change-mb']), runs });
  } else if (name === 'fresh-host') {
    await freshHostBench({ size: size('fresh-size', values['fresh-size']!), changeMb: positiveNumber('change-mb', values['change-mb']!) });
  } else if (name === 'compare') {
    // A preset, then any flag given overrides its value (the report calls such a run reduced when it falls short).
    const preset: Preset = values.full ? 'full' : 'default';
    const p = PRESETS[preset];
    const sizes = values['compare-sizes'] ? values['compare-sizes'].split(',').map((s) => size('compare-sizes', s)) : [...p.sizes];
    if (values['compare-large'] && !sizes.includes(10e9)) sizes.push(10e9);
    const main = values['compare-main'] ? size('compare-main', values['compare-main']) : sizes.includes(p.main) ? p.main : Math.max(...sizes);
    if (!sizes.includes(main)) sizes.push(main);
    await compareBench({
      preset,
      sizes: sizes.sort((a, b) => a - b),
      main,
      changeMb: positiveNumber('change-mb', values['change-mb']!),
      changesMb: values['compare-changes'] ? values['compare-changes'].split(',').map((s) => positiveNumber('compare-changes', s)) : [...p.changesMb],
      // The preset's change-curve game when it is still among the sizes; else the main game.
      changesAt: p.changesAt !== undefined && sizes.includes(p.changesAt) ? p.changesAt : main,
      smallFiles: values['compare-small-files'] ? positiveNumber('compare-small-files', values['compare-small-files']) : p.smallFiles,
      runs,
      curveRuns: positiveNumber('curve-runs', values['curve-runs']!),
    });
  } else if (name === 'many-files') {
    await manyFilesBench({
      files: positiveNumber('many-files', values['many-files']!),
      size: size('many-files-size', values['many-files-size']!),
      runs,
      baseline: values['many-files-baseline'],
      ...(values['many-files-empty'] ? { empty: positiveNumber('many-files-empty', values['many-files-empty']) } : {}),
    });
  } else if (name === 'peers') {
    await peersBench({ size: size('peers-size', values['peers-size']!), runs, changeMb: positiveNumber('change-mb', values['change-mb']!) });
  } else if (name === 'steady') {
    const updates = Number(values.updates);
    if (!Number.isSafeInteger(updates) || updates < 1) throw new Error(`--updates ${values.updates}: expected a whole number of at least 1`);
    await steadyBench({ size: size('steady-size', values['steady-size']!), updates, seed: values['steady-seed']! });
  } else if (name === 'steady-report') {
    await writeSteadyReport();
  } else if (name === 'compare-report') {
    for (const preset of Object.keys(PRESETS) as Preset[]) {
      if (existsSync(presetFiles(preset).json)) await writeCompareReport(undefined, preset);
    }
  } else {
    throw new Error(`unknown benchmark ${name}; known: scan, build, many-files, peers, compare, compare-report, fresh-host, steady, steady-report`);
  }
}
