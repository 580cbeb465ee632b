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

  // Format characters (Unicode Cf) draw nothing or reorder what follows: "/opt/\u202eevil" shows as another path in
  // every spec and log that prints it. Each is refused naming the field and the character.
  for (const [m, shown] of [
    ['/opt/\u202eevil', 'U+202E (RIGHT-TO-LEFT OVERRIDE) at character 6'],
    ['/opt/lo\u200bcal/app', 'U+200B (ZERO WIDTH SPACE) at character 8'],
    ['/opt/local/\u2066app\u2069', 'U+2066 (LEFT-TO-RIGHT ISOLATE) at character 12'],
    ['\ufeff/opt/local/app', 'U+FEFF (ZERO WIDTH NO-BREAK SPACE) at character 1'],
    ['/opt/local/a\u00adpp', 'U+00AD (SOFT HYPHEN) at character 13'],
    ['/opt/local/app\u{e0041}', 'U+E0041 (a format character) at character 15'],
  ] as const) {
    it(`refuses ${JSON.stringify(m)}`, () => {
      expect(errorOf(config(m))).toBe(
        `${FILE}:6:29: trees.app.mount: holds ${shown}, an invisible format character that makes the path look like another; expected visible characters only, such as /opt/local/app`,
      );
    });
  }

  for (const m of ['/opt/local/jeu-été', '/opt/ゲーム', '/opt/local/app-😀']) {
    it(`takes ${m} (letters and symbols, no format character)`, () => {
      expect(parseConfig(config(m), FILE).trees.app.mount).toBe(m);
    });
  }
});
