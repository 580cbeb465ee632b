// Text files gamelayer rewrites byte for byte (a manifest --fill edits): decoded strictly, since a lenient decode
// turns each bad byte into U+FFFD and the rewritten file would differ beyond what was meant to change.
import { GamelayerError } from '../errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A manifest's text, refused when it is not UTF-8: decoding would turn each bad byte into U+FFFD, and the filled
 * file would differ from the old one beyond its image references (the promise of --fill, --in-place above all).
 */
export function utf8Text(bytes: Buffer, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new GamelayerError('fill.read', `${file}: not UTF-8 text (byte ${badUtf8Byte(bytes)} is not valid UTF-8): a manifest is YAML in UTF-8`, 'convert the file to UTF-8 (iconv -t UTF-8) and run again');
  }
}

/** The offset of the first byte that starts no valid UTF-8 sequence (one linear pass; shortest forms only). */
function badUtf8Byte(b: Buffer): number {
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
