// Chunked trees in the deploy emitters (issue 20): the config marks a tree chunked, the deploy input carries it, and
// every emitter that delivers the tree uses the assembling copy: Pod / Deployment / Agones init containers, ECS copy
// containers, image mode (an image volume would show chunks: the tree is copied); --volumes none is refused.
import type { IPod } from 'kubernetes-models/v1/Pod';
import { describe, expect, it } from 'vitest';
import { ecsTaskDefinition } from '../src/ecs/task-definition.js';
import { GamelayerError } from '../src/errors.js';
import { deployInputFrom, type DeployInput } from '../src/k8s/input.js';
import { copyScript } from '../src/k8s/scripts.js';
import { fillManifests, kustomizeImages } from '../src/k8s/fill.js';
import { k8sWorkload, type AgonesGameServer } from '../src/k8s/workloads.js';
import { REPOSITORY, fixtureConfig, fixtureRecord } from './k8s-fixture.js';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chunkTree } from '../src/scan/chunk-tree.js';
import { scanTree } from '../src/scan/scan.js';
import { treeDiskBytes } from '../src/k8s/sizes.js';
import { buildRecordSchema } from '../src/types.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;

function chunkedInput(): DeployInput {
  const config = fixtureConfig();
  config.trees['app-media'].chunks = { minFileSize: 64 * MiB, avgChunkSize: MiB };
  return deployInputFrom(config, fixtureRecord(), REPOSITORY);
}

const initCommand = (pod: IPod, name: string) => pod.spec!.initContainers!.find((c) => c.name === name)!.command!;

describe('chunked trees in the deploy input', () => {
  it('a tree config with chunks (trees.<name>.chunks) marks that tree chunked and no other', () => {
    expect(deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY).trees.every((t) => !t.chunked)).toBe(true);
    expect(chunkedInput().trees.map((t) => [t.tree, t.chunked])).toEqual([
      ['engine', false],
      ['engine-media', false],
      ['app', false],
      ['app-media', true],
    ]);
  });
});

describe('emitters deliver a chunked tree through the assembling copy', () => {
  it('Pod (init): the chunked tree gets the assembling copy, the others the plain one', () => {
    const pod = k8sWorkload(chunkedInput(), { kind: 'pod', volumes: 'init' }).object as IPod;
    expect(initCommand(pod, 'copy-app-media')).toEqual([
      'sh',
      '-c',
      copyScript('app-media', '/opt/local/app-media', '/mnt/app-media', { chunked: true }),
    ]);
    expect(initCommand(pod, 'copy-app-media')[2]).toContain("'/opt/local/app-media/.gamelayer-chunks/r'");
    expect(initCommand(pod, 'copy-app')).toEqual(['sh', '-c', copyScript('app', '/opt/local/app', '/mnt/app')]);
    expect(initCommand(pod, 'copy-app')[2]).not.toContain('.gamelayer-chunks');
  });

  it('Agones GameServer (init): the same assembling copy inside the GameServer template', () => {
    const gs = k8sWorkload(chunkedInput(), { kind: 'gameserver', volumes: 'init' }).object as AgonesGameServer;
    const init = gs.spec.template.spec.initContainers!.find((c) => c.name === 'copy-app-media')!;
    expect(init.command![2]).toBe(copyScript('app-media', '/opt/local/app-media', '/mnt/app-media', { chunked: true }));
  });

  it('image mode: a chunked tree is copied and assembled instead of mounted as an image volume, with a note', () => {
    const e = k8sWorkload(chunkedInput(), { kind: 'pod', volumes: 'image' });
    const pod = e.object as IPod;
    // The fixture's non-engine trees have no executables: without chunks all three would be image volumes.
    expect(pod.spec!.initContainers!.map((c) => c.name)).toEqual(['copy-app-media']);
    expect(pod.spec!.volumes!.map((v) => `${v.name}:${v.emptyDir ? 'emptyDir' : 'image'}`)).toEqual([
      'tree-engine-media:image',
      'tree-app:image',
      'tree-app-media:emptyDir',
    ]);
    expect(initCommand(pod, 'copy-app-media')[2]).toContain('.gamelayer-chunks');
    expect(e.notes).toContain(
      'tree app-media is chunked and an image volume would show its chunks, not its files: it is copied and assembled by an init container instead',
    );
  });

  for (const kind of ['deployment', 'gameserver', 'fleet'] as const) {
    it(`${kind} with --volumes none (the server image holds chunks): refused, naming the tree and the way out`, () => {
      let error: unknown;
      try {
        k8sWorkload(chunkedInput(), { kind, volumes: 'none' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(GamelayerError);
      expect((error as GamelayerError).code).toBe('chunks.whole-files');
      expect((error as GamelayerError).message).toContain('tree app-media is chunked');
      expect((error as GamelayerError).hint).toContain('--volumes init');
    });
  }

  for (const kind of ['deployment', 'gameserver', 'fleet'] as const) {
    it(`${kind} with no --volumes asked (its default is the server image): init containers assemble the tree, with a note`, () => {
      const emission = k8sWorkload(chunkedInput(), { kind });
      expect(emission.options.volumes).toBe('init');
      expect(emission.deliveries.map((d) => [d.tree.tree, d.via])).toEqual([
        ['engine-media', 'copy'],
        ['app', 'copy'],
        ['app-media', 'copy'],
      ]);
      expect(emission.notes[0]).toContain(`tree app-media is chunked, which the server image (--volumes none, the default for --kind ${kind}) cannot deliver`);
    });
  }

  it('without a chunked tree the kinds keep their default, the server image', () => {
    const input = deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
    expect(k8sWorkload(input, { kind: 'fleet' }).options.volumes).toBe('none');
  });

  it('--fill refuses the server image, and a chunked tree mounted as an image volume, naming the line', () => {
    const manifest = (image: string, volume: boolean) =>
      volume
        ? `apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n    - name: media\n      image:\n        reference: ${image}\n`
        : `apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: game\n      image: ${image}\n`;
    const refused = (text: string) => {
      try {
        fillManifests(text, 'mine.yaml', chunkedInput());
      } catch (e) {
        return e as GamelayerError;
      }
      return undefined;
    };
    for (const image of ['gamelayer://server', `${REPOSITORY}:v0`]) {
      const e = refused(manifest(image, false));
      expect(e?.code).toBe('chunks.whole-files');
      expect(e?.message).toContain(`mine.yaml:6:14: ${image} (the server image run as it is) needs whole files, but tree app-media is chunked`);
    }
    expect(refused(manifest('gamelayer://app-media', true))?.message).toContain("mine.yaml:7:20: gamelayer://app-media (tree app-media's image as an image volume) needs whole files");
    // What is fine: a chunked tree's image as a container's (the copy), another tree as an image volume, and the
    // server image of a build with no chunked tree.
    expect(refused(manifest('gamelayer://app-media', false))).toBeUndefined();
    expect(refused(manifest('gamelayer://engine-media', true))).toBeUndefined();
    const whole = deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
    expect(fillManifests(manifest('gamelayer://server', false), 'mine.yaml', whole).replacements).toHaveLength(1);
  });

  it('--kustomize-images says in the block that the server image of a chunked build must not run as it is', () => {
    expect(kustomizeImages(chunkedInput())).toContain('# gamelayer/server holds chunks where the big files of app-media belong (chunked)');
    expect(kustomizeImages(deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY))).not.toContain('chunk');
  });

  it('--volumes none without a chunked tree still runs the server image', () => {
    const input = deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);
    expect(() => k8sWorkload(input, { kind: 'deployment', volumes: 'none' })).not.toThrow();
  });

  it('ECS: the copy container of the chunked tree runs the assembling copy', () => {
    const { taskDefinition } = ecsTaskDefinition(chunkedInput());
    const copy = taskDefinition.containerDefinitions!.find((c) => c.name === 'copy-app-media')!;
    expect(copy.entryPoint![2]).toBe(copyScript('app-media', '/opt/local/app-media', '/mnt/app-media', { chunked: true }));
    const plain = taskDefinition.containerDefinitions!.find((c) => c.name === 'copy-app')!;
    expect(plain.entryPoint![2]).not.toContain('.gamelayer-chunks');
  });
});

describe('the size of a chunked tree\'s copy', () => {
  it('is the assembled files, not the chunks: files sharing chunks take their full size once assembled', async () => {
    const base = await tempDir();
    const src = path.join(base, 'app-media');
    // Four paks of the same 2 MiB: the image holds their chunks once, the copy holds 8 MiB.
    const pak = Buffer.alloc(2 * MiB);
    for (let i = 0, at = 0; at < pak.length; i++, at += 32) createHash('sha256').update(`pak:${i}`).digest().copy(pak, at);
    await mkdir(path.join(src, 'paks'), { recursive: true });
    for (const n of [0, 1, 2, 3]) await writeFile(path.join(src, `paks/p${n}.pak`), pak);
    await writeFile(path.join(src, 'readme.txt'), 'small');
    const stateDir = path.join(base, 'state');
    const scan = await scanTree('app-media', src, { include: ['**'], exclude: [] }, { stateDir });
    const chunks = { minFileSize: MiB, avgChunkSize: 64 * 1024 };
    const chunked = (await chunkTree(scan, chunks, { stateDir })).manifest;
    const config = fixtureConfig();
    config.trees['app-media'].chunks = chunks;
    const built = fixtureRecord();
    built.manifests = built.manifests.map((m) => (m.tree === 'app-media' ? chunked : m));
    // As the deploy commands read it: through the record's schema, from JSON.
    const record = buildRecordSchema.parse(JSON.parse(JSON.stringify(built)));
    const input = deployInputFrom(config, record, REPOSITORY);
    const appMedia = input.trees.find((t) => t.tree === 'app-media')!;
    // The image: one copy of the chunks, the recipes, the small file.
    expect(appMedia.bytes).toBeLessThan(3 * MiB);
    // The copy: the small file, the four paks whole, and their folder; no chunk store.
    // A restarted copy may write the two largest paks again beside their first copies (ASSEMBLY_WORKERS at once).
    expect(appMedia.assembled).toEqual({ bytes: 8 * MiB + 5, entries: 6, rewrite: 4 * MiB });
    const pod = k8sWorkload(input, { kind: 'pod', volumes: 'init' }).object as IPod;
    const emptyDir = pod.spec!.volumes!.find((v) => v.name === 'tree-app-media')!.emptyDir!;
    expect(emptyDir.sizeLimit).toBe(`${treeDiskBytes({ bytes: 12 * MiB + 5, entries: 8 }) / MiB}Mi`);
    expect(parseInt(String(emptyDir.sizeLimit), 10) * MiB).toBeGreaterThan(8 * MiB);
  });
});

