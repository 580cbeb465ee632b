import type { Command } from 'commander';
import { build, type BuildResult } from '../../build/build.js';
import { formatBytes } from '../../report/reporter.js';
import { commandConfig, commandReporter, printJson } from '../context.js';
import { table } from '../table.js';

interface BuildFlags {
  tag?: string;
  platform?: string[];
  out?: string;
  compression?: 'gzip' | 'zstd';
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('build')
    .description('build the server image and one image per tree into the local OCI layout; unchanged layers are reused')
    .option('-t, --tag <tag>', 'server image tag; tree images get <tag>-<tree> (default: version from the config, else latest)')
    .option('--platform <platform...>', 'build only these of the config\'s platforms')
    .option('--out <dir>', 'OCI image layout directory (default: store from the config, .gamelayer/oci)')
    .option('--compression <kind>', 'gzip or zstd (default: layers.compression from the config)')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (flags: BuildFlags, cmd: Command) => {
      if (flags.compression && flags.compression !== 'gzip' && flags.compression !== 'zstd') {
        throw new Error(`--compression ${flags.compression}: expected gzip or zstd`);
      }
      const config = await commandConfig(cmd);
      const result = await build({
        config,
        tag: flags.tag,
        platforms: flags.platform,
        out: flags.out,
        compression: flags.compression,
        reporter: commandReporter(!!flags.json),
      });
      if (flags.json) printJson(buildJson(result));
      else process.stdout.write(`${buildText(result)}\n`);
    });
}

function buildJson(r: BuildResult) {
  return {
    store: r.store,
    record: r.recordFile,
    tags: r.record.tags,
    images: r.record.images,
    summary: { ...r.summary, layers: r.summary.layers.map((l) => ({ ...l.layer, platform: l.platform, files: l.files, bytes: l.bytes, reused: l.reused })) },
  };
}

export function buildText(r: BuildResult): string {
  const s = r.summary;
  const multi = r.record.platforms.length > 1;
  const rows = s.layers.map((l) => [
    multi ? `${l.layer.tree} ${l.platform}` : l.layer.tree,
    String(l.layer.index),
    String(l.files),
    formatBytes(l.bytes),
    formatBytes(l.layer.size),
    l.reused ? 'reused' : 'built',
    l.layer.digest.slice(0, 19),
  ]);
  const server = r.record.images.find((i) => i.name === 'server' && (multi ? i.platform === undefined : true))!;
  return [
    table(['tree', 'layer', 'files', 'content', 'compressed', 'status', 'digest'], rows, [1, 2, 3, 4]),
    '',
    `layers: ${s.built} built, ${s.reused} reused; new bytes ${formatBytes(s.bytesNew)} of ${formatBytes(s.bytesTotal)}; ` +
      `scan ${(s.scanMs / 1000).toFixed(2)}s, total ${(s.ms / 1000).toFixed(2)}s`,
    `images in ${r.store}: ${r.record.tags.join(', ')}`,
    `server image ${r.record.tags[0]} = ${server.digest}`,
    `record ${r.recordFile}`,
  ].join('\n');
}
