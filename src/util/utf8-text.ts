// Text files gamelayer rewrites byte for byte (a manifest --fill edits) or reads paths from (gamelayer.yaml): decoded
// strictly, since a lenient decode turns each bad byte into U+FFFD: the rewritten file would differ beyond what was
// meant to change, and a source path would name a folder that is not there.
import { GamelayerError } from '../errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A manifest's text, refused when it is not UTF-8: decoding would turn each bad byte into U+FFFD, and the filled
 * file would differ from the old one beyond its image references (the promise of --fill, --in-place above all).
 */
export function utf8Text(bytes: Buffer, file: string): string {
  const text = strictUtf8(bytes);
  if (text === undefined) {
    throw new GamelayerError('fill.read', `${file}: not UTF-8 text (byte ${badUtf8Byte(bytes)} is not valid UTF-8): a manifest is YAML in UTF-8`, 'convert the file to UTF-8 (iconv -t UTF-8) and run again');
  }
  return text;
}

/** `bytes` as UTF-8 text (a byte order mark kept), or undefined when they are not UTF-8. */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The offset of the first byte that starts no valid UTF-8 sequence (one linear pass; shortest forms only). */
export function badUtf8Byte(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
    }
    const second = b[i + 1] ?? 0;
    // Overlong, surrogate and beyond-U+10FFFF forms the lead byte alone does not rule out.
    if ((c === 0xe0 && second < 0xa0) || (c === 0xed && second > 0x9f) || (c === 0xf0 && second < 0x90) || (c === 0xf4 && second > 0x8f)) return i;
    i += n + 1;
  }
  return i;
}
