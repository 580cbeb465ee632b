import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { parseSize } from '../src/config/schema.js';
import { checkSources } from '../src/scan/scan.js';
import { tempDir } from './support/tmp.js';

const FILE = '/games/g/gamelayer.yaml';
const base = (extra = '', trees = '') => `game: g
start: /opt/local/engine/start.sh
${extra}
trees:
  engine: {source: engine}
  engine-media: {source: em}
  app: {source: app${trees}}
  app-media: {source: am}
`;

function errorOf(text: string): string {
  try {
    parseConfig(text, FILE);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('applies defaults and resolves sources against the yaml folder', () => {
    const c = parseConfig(base(), FILE);
    expect(c.trees['app-media'].mount).toBe('/opt/local/app-media');
    expect(c.trees.engine.sources).toEqual({ '*': '/games/g/engine' });
    expect(c.platforms).toEqual(['linux/amd64']);
    expect(c.start).toEqual(['/opt/local/engine/start.sh']);
    expect(c.layers).toEqual({ targetSize: 512 * 1024 ** 2, maxLayers: 100, maxLayerSize: 52_000 * 1024 ** 2, compression: 'gzip' });
    expect(c.store).toBe('/games/g/.gamelayer/oci');
    expect(c.baseImage).toBe('scratch');
  });

  it('takes per-platform sources for binary trees', () => {
    const c = parseConfig(
      base('platforms: [linux/amd64, linux/arm64]').replace(
        'engine: {source: engine}',
        'engine: {source: {linux/amd64: e-x64.tar.gz, linux/arm64: e-arm.tar.gz}}',
      ),
      FILE,
    );
    expect(c.trees.engine.sources).toEqual({ 'linux/amd64': '/games/g/e-x64.tar.gz', 'linux/arm64': '/games/g/e-arm.tar.gz' });
  });

  it('names file, line, column and field for an unknown field', () => {
    expect(errorOf(base('', ', colour: red'))).toBe(
      `${FILE}:7:22: trees.app.colour: unknown field; expected one of source, include, exclude, mount, chunks`,
    );
  });

  it('names the field and the expected type for a wrong type', () => {
    expect(errorOf(base('platforms: linux/amd64'))).toBe(`${FILE}:3:12: platforms: expected a list, got string "linux/amd64"`);
  });

  it('rejects a missing tree', () => {
    expect(errorOf(base().replace('  app-media: {source: am}\n', ''))).toBe(`${FILE}:5:3: trees.app-media: missing; expected a map`);
  });

  it('rejects a mount that is not absolute', () => {
    expect(errorOf(base('', ', mount: opt/app'))).toBe(
      `${FILE}:7:29: trees.app.mount: expected an absolute path inside the image such as /opt/local/engine`,
    );
  });

  it('rejects two trees on the same mount', () => {
    expect(errorOf(base('', ', mount: /opt/local/engine'))).toBe(
      `${FILE}:7:29: trees.app.mount: /opt/local/engine is also the mount of tree engine; expected a distinct mount path per tree`,
    );
  });

  it('rejects a bad platform string', () => {
    expect(errorOf(base('platforms: [linux/amd64, windows/x86]'))).toBe(
      `${FILE}:3:26: platforms.1: expected a platform such as linux/amd64 or linux/arm64 (os/arch[/variant])`,
    );
  });

  it('rejects a bad image reference', () => {
    expect(errorOf(base('registry: "Not A Ref!"'))).toBe(
      `${FILE}:3:11: registry: expected an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/game or localhost:5000/game`,
    );
  });

  it('rejects per-platform sources for media trees', () => {
    const text = base('platforms: [linux/amd64]').replace('app-media: {source: am}', 'app-media: {source: {linux/amd64: am}}');
    expect(errorOf(text)).toBe(`${FILE}:8:23: trees.app-media.source: expected one path: media trees are shared between platforms`);
  });

  it('rejects per-platform sources that miss a platform', () => {
    const text = base('platforms: [linux/amd64, linux/arm64]').replace('engine: {source: engine}', 'engine: {source: {linux/amd64: e}}');
    expect(errorOf(text)).toMatch(/:5:20: trees\.engine\.source: no source for platform linux\/arm64/);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(errorOf('game: g\ntrees: [\n')).toMatch(/^\/games\/g\/gamelayer\.yaml:\d+:\d+: invalid YAML: /);
  });

  it('reports a bad size with the value', () => {
    expect(errorOf(base('layers: {targetSize: 3 parsecs}'))).toBe(
      `${FILE}:3:22: layers.targetSize: expected a size such as 512MiB, 2GiB or a byte count, got "3 parsecs"`,
    );
  });

  it('parses sizes', () => {
    expect(parseSize('512MiB')).toBe(512 * 1024 * 1024);
    expect(parseSize('1.5GB')).toBe(1.5e9);
    // TiB and TB were "not a size" (a trial's --scratch 1TiB); PiB is not a unit.
    expect(parseSize('1TiB')).toBe(1024 ** 4);
    expect(parseSize('2 tb')).toBe(2e12);
    expect(parseSize('1PiB')).toBeUndefined();
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('0')).toBeUndefined();
    expect(parseSize('12 parsecs')).toBeUndefined();
  });

  it('says which file is missing', async () => {
    const dir = await tempDir();
    await expect(loadConfig(path.join(dir, 'gamelayer.yaml'))).rejects.toThrow(`${dir}/gamelayer.yaml: no such file`);
    await writeFile(path.join(dir, 'gamelayer.yaml'), base());
    await expect(loadConfig(path.join(dir, 'gamelayer.yaml'))).resolves.toMatchObject({ game: 'g', dir });
  });

  it('a missing per-platform source is named where the config writes it', async () => {
    const dir = await tempDir();
    for (const d of ['engine-x64', 'em', 'app', 'am']) await mkdir(path.join(dir, d));
    const yaml = base('platforms: [linux/amd64, linux/arm64]').replace('engine: {source: engine}', 'engine:\n    source:\n      linux/amd64: engine-x64\n      linux/arm64: engine-arm');
    await writeFile(path.join(dir, 'gamelayer.yaml'), yaml);
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const line = yaml.split('\n').findIndex((l) => l.includes('engine-arm'));
    await expect(checkSources(config)).rejects.toThrow(
      `${dir}/gamelayer.yaml:${line + 1}:20: trees.engine.source.linux/arm64: ${dir}/engine-arm does not exist`,
    );
  });
});
