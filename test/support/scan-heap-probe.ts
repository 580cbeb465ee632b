// Run as a child process (`node --import tsx test/support/scan-heap-probe.ts ROOT STATE [pending]`): scans ROOT as
// tree `app` and prints, as JSON, how many strings in the heap hold the text argv[5] (a heap snapshot of this small
// process), with the manifest's entry count. Tests use it to see whether entries share one string or hold copies.
import v8 from 'node:v8';
import { scanTree } from '../../src/scan/scan.js';

const [root, stateDir, mode, text] = process.argv.slice(2);
const scan = await scanTree('app', root!, { include: ['**'], exclude: [] }, { stateDir: stateDir!, ...(mode === 'pending' ? { packHashes: () => true } : {}) });
let json = '';
for await (const chunk of v8.getHeapSnapshot()) json += chunk;
const snap = JSON.parse(json) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[]; strings: string[] };
const width = snap.snapshot.meta.node_fields.length;
const nameAt = snap.snapshot.meta.node_fields.indexOf('name');
let strings = 0;
for (let i = 0; i < snap.nodes.length; i += width) if (snap.strings[snap.nodes[i + nameAt]!] === text) strings++;
process.stdout.write(JSON.stringify({ strings, entries: scan.manifest.entries.length }));
