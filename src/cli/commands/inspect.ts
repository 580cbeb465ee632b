// gamelayer inspect [TAG|REF]: a build record: trees, layers (size, patch / kept / new), base, images, pushes.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { inspectRecord, type InspectView } from '../../inventory/inspect.js';
import { localBuildSummaries, localBuildSummary } from '../../inventory/local.js';
import { readRecordTotals } from '../../state/record-totals.js';
import type { BuildRecord } from '../../types.js';
import { exists } from '../../util/exists.js';
import { GamelayerError } from '../../errors.js';
import { parseReference } from '../../registry/reference.js';
import { formatBytes } from '../../report/reporter.js';
import { commandConfig, commandReporter, printJson } from '../context.js';
import { addRegistryOptions, registryOptions, type RegistryFlags } from '../registry-flags.js';
import { fitTable } from '../table.js';
import { count } from '../../report/plural.js';
import { printable } from '../../report/printable.js';
import { utcText } from '../../util/instant.js';

interface InspectFlags extends RegistryFlags {
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('show a build record: trees, layers with sizes and patch/kept status, base image layers, images, where pushed')
    .argument('[tag|ref]', 'a local build tag (default: the last build), or host[:port]/repo:tag for a pushed image')
    .option('--json', 'print the record view as JSON on stdout')
    .action(async (what: string | undefined, flags: InspectFlags, c: Command) => {
      let view: InspectView;
      let pushedNote: string | undefined;
      if (what?.includes('/')) {
        const { fetchBuildRecordFor } = await import('../../registry/artifact.js');
        const options = await registryOptions(flags);
        const found = await fetchBuildRecordFor(what, options);
        // The build it was planned on, for its layers: those this build kept rather than made.
        const { previousLayers, previousRecordLimit } = await import('../../registry/previous-layers.js');
        const kept = await previousLayers(what, found.record, previousRecordLimit(found.recordBlobSize), options);
        const earlier = kept && 'layers' in kept && found.record.previous ? [{ createdAt: found.record.previous.createdAt, layers: kept.layers }] : [];
        if (kept && 'unread' in kept && found.record.previous) unreadPrevious(found.record.previous, kept.unread);
        view = inspectRecord(found.record, `${what} (record ${found.digest}, via ${found.via})`, earlier);
        // A record as pushed holds no `pushed` (the local record notes it after the push): it is where it was read.
        const ref = parseReference(what);
        if (!view.pushed) pushedNote = `pushed: ${ref.registry}/${ref.repository} (where this record was read)`;
      } else {
        const config = await commandConfig(c);
        // The others only for their layer digests: summaries, not every build's entries held at once.
        const summaries = await localBuildSummaries(config);
        const build = await localBuildSummary(config, what, summaries).catch((e: unknown) => {
          // No build here at all (a fresh clone, a CI host): the pushed one is read from the registry.
          if (!(e instanceof GamelayerError) || e.code !== 'record.no-build' || summaries.length) throw e;
          const repo = config.registry ?? 'HOST/REPO';
          throw new GamelayerError(e.code, e.message, `on a host without the build (a fresh clone, a CI host), read the pushed one: gamelayer inspect ${repo}:${what ?? 'TAG'} (gamelayer ls ${repo} lists them)`);
        });
        // The chosen build's entries counted in its file, not held (a 1M-entry record is 170 MB of JSON).
        const totals = await readRecordTotals(build.file);
        const earlier: Pick<BuildRecord, 'createdAt' | 'layers'>[] = summaries.map((b) => b.record);
        // Planned on the registry's record, and that build's own local record is gone (gc removed it, or it was built
        // on another host): its layers are read from the record blob the build names, as `inspect REPO:TAG` does, so
        // the layers this build kept are not shown as made by it. Unreadable (offline): said, not guessed.
        const prev = totals.previous;
        if (prev?.blob && !summaries.some((b) => b.record.createdAt === prev.createdAt)) {
          const { previousLayers, previousRecordLimit } = await import('../../registry/previous-layers.js');
          commandReporter(!!flags.json); // registry retries shown with their reason, as for inspect REPO:TAG
          const limit = previousRecordLimit((await stat(build.file)).size);
          const kept = await previousLayers(prev.ref, totals, limit, await registryOptions(flags)).catch((e: unknown) => ({ unread: (e as Error).message }));
          if (kept && 'layers' in kept) earlier.push({ createdAt: prev.createdAt, layers: kept.layers });
          else unreadPrevious(prev, kept?.unread ?? 'no record blob named', ' is not here and');
        }
        view = inspectRecord(totals, build.file, earlier, await layersNotInStore(config.store, totals));
      }
      if (flags.json) return printJson(view);
      process.stdout.write(render(printable(view), pushedNote));
    });
  addRegistryOptions(cmd, 'existing');
}

/** The previous build's record could not be read: said on stderr (the view stays JSON), not silently ignored. */
function unreadPrevious(prev: { ref: string; createdAt: string }, why: string, notHere = ''): void {
  process.stderr.write(`${printable(`note: the record of the build this one was planned on (${prev.ref}, built ${prev.createdAt})${notHere} could not be read from the registry (${why}): layers this build kept show as new`)}\n`);
}

/**
 * The build's layers its store lacks, when the store holds the build's own server image (else it says nothing about
 * this build: another --store, or gc'd): on a fresh host, the layers kept from the registry's previous build.
 */
async function layersNotInStore(store: string, record: Pick<BuildRecord, 'layers' | 'images'>): Promise<Set<string>> {
  const blob = (digest: string) => path.join(store, 'blobs', ...digest.split(':'));
  const server = record.images.find((i) => i.name === 'server');
  if (!server || !(await exists(blob(server.digest)))) return new Set();
  const absent = await Promise.all(record.layers.map(async (l) => ((await exists(blob(l.digest))) ? undefined : l.digest)));
  return new Set(absent.filter((d): d is string => d !== undefined));
}

function render(v: InspectView, pushedNote?: string): string {
  const out: string[] = [];
  out.push(`build ${v.tags.join(', ')} of ${v.game}${v.version ? ` ${v.version}` : ''}, ${utcText(v.createdAt, true)} UTC`);
  out.push(`record: ${path.isAbsolute(v.source) ? path.relative(process.cwd(), v.source) : v.source}`);
  out.push(`platforms: ${v.platforms.join(', ')}`);
  // A chunked tree's files are those its copy holds; its images hold chunks instead, counted apart.
  const chunked = v.trees.some((t) => t.chunks !== undefined);
  const treeRow = (t: InspectView['trees'][number]) => [t.platform ? `${t.tree} (${t.platform})` : t.tree, String(t.files), formatBytes(t.bytes), ...(chunked ? [t.chunks === undefined ? '-' : String(t.chunks)] : []), t.digest.slice(7, 19)];
  out.push('', fitTable(['TREE', 'FILES', 'BYTES', ...(chunked ? ['CHUNKS'] : []), 'DIGEST'], v.trees.map(treeRow), chunked ? [1, 2, 3] : [1, 2]));
  const counts = { new: 0, kept: 0, patch: 0, marker: 0 };
  for (const l of v.layers) counts[l.status]++;
  const content = v.layers.length - counts.marker;
  out.push('', `layers: ${content} (${counts.new} new, ${counts.kept} kept, ${counts.patch} patch) + ${count(counts.marker, 'tree marker')}`);
  out.push(
    fitTable(
      ['TREE', '#', 'STATUS', 'FILES', 'SIZE', 'DIGEST'],
      v.layers.map((l) => [l.platform && v.platforms.length > 1 ? `${l.tree} (${l.platform})` : l.tree, String(l.index), l.status, String(l.files), formatBytes(l.size), l.digest.slice(7, 19)]),
      [1, 3, 4],
    ),
  );
  out.push('', v.base.layers ? `base image: ${count(v.base.layers, 'layer')}, ${formatBytes(v.base.size)}` : 'base image: scratch (no layers)');
  out.push('', fitTable(['IMAGE', 'PLATFORM', 'SIZE', 'DIGEST'], v.images.map((i) => [i.name, i.platform ?? '', i.size === undefined ? '' : formatBytes(i.size), i.digest]), [2], { shrink: 3 }));
  if (v.index) out.push(`index: ${v.index}`);
  out.push('', ...(pushedNote && !v.pushed ? [printable(pushedNote)] : pushedLines(v.pushed)));
  if (v.revision) out.push(`revision: ${v.revision}${v.sourceUrl ? ` (${v.sourceUrl})` : ''}`);
  if (v.codebuildArn) out.push(`codebuild: ${v.codebuildArn}`);
  return `${out.join('\n')}\n`;
}

/** The record's pushes (issue 18: one entry per push, repository and images) one line each, not raw JSON. */
function pushedLines(pushed: unknown): string[] {
  if (!pushed) return ['pushed: not recorded'];
  if (!Array.isArray(pushed)) return [`pushed: ${JSON.stringify(pushed)}`];
  return pushed.map((p: { repository?: string; images?: unknown[]; at?: string }) =>
    `pushed: ${p.repository ?? '?'}${p.at ? `, ${utcText(String(p.at))} UTC` : ''}${Array.isArray(p.images) ? ` (${count(p.images.length, 'image')})` : ''}`,
  );
}
