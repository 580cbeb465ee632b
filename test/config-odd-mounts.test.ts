// Mounts a container runtime owns or that no tree can take: `/proc`, `/sys`, `/dev` and below (the runtime mounts its
// own file systems there, hiding the tree, and refuses a volume there), and a path with a control character (a newline
// in a mount splits the copy's messages and the pod spec's lines). Each is refused at its line, naming the field.
// `/` is taken: a tree can be the whole file system of a scratch image (test/integrity-mounts.test.ts).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';

const FILE = '/games/g/gamelayer.yaml';
const config = (mount: string) => `game: g
start: /opt/local/engine/start.sh
trees:
  engine: {source: engine}
  engine-media: {source: em}
  app: {source: app, mount: ${JSON.stringify(mount)}}
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

describe('trees.<tree>.mount', () => {
  for (const m of ['/proc', '/proc/self', '/sys', '/sys/fs/x', '/dev', '/dev/shm/game']) {
    it(`refuses ${m}`, () => {
      expect(errorOf(config(m))).toBe(
        `${FILE}:6:29: trees.app.mount: ${m} is a path the container runtime owns (/proc, /sys, /dev): expected a folder of the image such as /opt/local/engine`,
      );
    });
  }

  it('refuses a control character', () => {
    expect(errorOf(config('/opt/local/a\npp'))).toBe(`${FILE}:6:29: trees.app.mount: expected an absolute path inside the image such as /opt/local/engine`);
  });

  for (const m of ['/', '/opt/local/app', '/procedures', '/device/x', '/system', '/srv/game']) {
    it(`takes ${m}`, () => {
      expect(parseConfig(config(m), FILE).trees.app.mount).toBe(m);
    });
  }
});
