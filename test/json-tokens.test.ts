// The JSON tokenizer the record readers share (src/util/json-tokens.ts): it accepts what JSON.parse accepts and
// refuses what it refuses, however the bytes are cut into chunks, reports where every value lies, and names the file
// and the byte offset of what is wrong in hostile input.
import { describe, expect, it } from 'vitest';
import { JsonTokenError, JsonTokenizer, scanValue, type JsonEvents } from '../src/util/json-tokens.js';

/** Tokenizes `bytes` pushed in pieces cut at `cuts`; the events as text, or the error. */
function tokens(bytes: Buffer, cuts: number[] = [], options: ConstructorParameters<typeof JsonTokenizer>[1] = {}): string[] {
  const out: string[] = [];
  const events: JsonEvents = {
    open: (array, start, depth) => out.push(`open ${array ? '[' : '{'} ${start} ${depth}`),
    close: (array, end, depth) => out.push(`close ${array ? ']' : '}'} ${end} ${depth}`),
    key: (key, start, end, depth) => out.push(`key ${JSON.stringify(key)} ${start}-${end} ${depth}`),
    scalar: (start, end, depth) => out.push(`scalar ${bytes.toString('utf8', start, end)} ${start}-${end} ${depth}`),
  };
  const t = new JsonTokenizer(events, options);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    // A fresh copy per piece, overwritten after: the tokenizer must keep what it needs of a piece.
    const piece = Buffer.from(bytes.subarray(at, cut));
    t.push(piece);
    piece.fill(0x7a);
    at = cut;
  }
  t.end();
  return out;
}

function accepts(bytes: Buffer, cuts: number[] = []): boolean {
  try {
    tokens(bytes, cuts);
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(JsonTokenError);
    return false;
  }
}

function jsonAccepts(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const GOOD = [
  '{}',
  '[]',
  ' \t\r\n{ "a" : [ 1 , -0.5e+10 , true , false , null , "x" ] } \n',
  '"just a string"',
  '0',
  '-12.5E-3',
  '[[[[]]]]',
  '{"k\\"ey\\\\":{"":[{},{"\\u00e9":"\\ud83d\\ude00"}]}}',
  JSON.stringify({ path: 'ä/日本/😀 "q" \\ \u0001', n: [1.5, -2, 3e21], e: {} }),
  '"\\ud800"', // a lone surrogate escaped: JSON.parse takes it, JSON.stringify writes it
  '"\\udc00x\\ud800"',
  '"\\/\\b\\f\\n\\r\\t"',
];

const BAD = [
  '',
  ' ',
  '{',
  '[1,]',
  '[,1]',
  '[1,,2]',
  '{"a":1,}',
  '{"a" 1}',
  '{a:1}',
  '{"a":}',
  '[1 2]',
  '{"a":1}x',
  '{"a":1}}',
  '[}',
  '{]',
  '01',
  '-',
  '1.',
  '.5',
  '1e',
  '1e+',
  '+1',
  '-01',
  'tru',
  'truex',
  'nul',
  'True',
  '"abc',
  '"\\x"',
  '"\\u12g4"',
  '"\\u12"',
  '"a\nb"',
  '"\t"',
  '"\u0000"',
  '[1]]',
  '{"a":1 "b":2}',
  'NaN',
  '[Infinity]',
  '\ufeff{}',
];

describe('the JSON tokenizer', () => {
  it('accepts what JSON.parse accepts and refuses what it refuses, cut anywhere', () => {
    for (const text of [...GOOD, ...BAD]) {
      const bytes = Buffer.from(text);
      const want = jsonAccepts(text);
      expect(accepts(bytes), text).toBe(want);
      for (let cut = 0; cut <= bytes.length; cut++) expect(accepts(bytes, [cut]), `${text} cut at ${cut}`).toBe(want);
      // One byte at a time.
      expect(accepts(bytes, Array.from({ length: bytes.length }, (_, i) => i)), text).toBe(want);
    }
    expect(GOOD.every(jsonAccepts)).toBe(true);
    expect(BAD.some(jsonAccepts)).toBe(false);
  });

  it('agrees with JSON.parse on a record-like text mutated at random (seeded)', () => {
    const good = JSON.stringify({ kind: 'build', n: -1.5e-7, manifests: [{ tree: 'app', entries: [{ path: 'a/é "x"\\', type: 'file', mode: 420, size: 0 }, { path: '日', size: 12 }] }], plan: { layers: [] }, ok: true, no: null });
    let seed = 17;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = '{}[],:"\\ 0-.eE+tfnu1x';
    let refused = 0;
    for (let n = 0; n < 3000; n++) {
      const at = rand(good.length);
      const ch = alphabet[rand(alphabet.length)]!;
      const op = rand(3);
      const text = op === 0 ? good.slice(0, at) + good.slice(at + 1) : op === 1 ? good.slice(0, at) + ch + good.slice(at) : good.slice(0, at) + ch + good.slice(at + 1);
      const want = jsonAccepts(text);
      if (!want) refused++;
      const bytes = Buffer.from(text);
      expect(accepts(bytes, [rand(bytes.length + 1)]), text).toBe(want);
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it('names the same error at the same byte pushed whole (its fast path) or a byte at a time (seeded)', () => {
    const good = JSON.stringify({ a: [{ path: 'd/f1', type: 'file', mode: 420, size: 0, x: -1.5e-7, t: true, f: false, n: null }], 'k\u00e9y': 'é\\"' });
    let seed = 5;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = '{}[],:"\\ 0-.eE+tfnu1x\u0001é';
    const outcome = (bytes: Buffer, cuts: number[]) => {
      try {
        return tokens(bytes, cuts, { reportDepth: 3, keyDepth: 2 }).join('|');
      } catch (e) {
        return (e as Error).message;
      }
    };
    let refused = 0;
    for (let n = 0; n < 2000; n++) {
      const at = rand(good.length);
      const ch = alphabet[rand(alphabet.length)]!;
      const text = rand(2) ? good.slice(0, at) + ch + good.slice(at) : good.slice(0, at) + ch + good.slice(at + 1);
      const bytes = Buffer.from(text);
      const whole = outcome(bytes, []);
      if (whole.includes('byte ')) refused++;
      expect(whole, text).toBe(outcome(bytes, Array.from({ length: bytes.length }, (_, i) => i)));
    }
    expect(refused).toBeGreaterThan(500);
  });

  it('reports the same events however the bytes are cut', () => {
    for (const text of GOOD) {
      const bytes = Buffer.from(text);
      const whole = tokens(bytes);
      for (let cut = 0; cut <= bytes.length; cut++) expect(tokens(bytes, [cut]), `${text} cut at ${cut}`).toEqual(whole);
    }
  });

  it('reports where each value lies, its keys decoded', () => {
    const bytes = Buffer.from('{"a":[1,"x"],"b\\u00e9":{"c":null}}');
    expect(tokens(bytes)).toEqual([
      'open { 0 1',
      'key "a" 1-4 1',
      'open [ 5 2',
      'scalar 1 6-7 3',
      'scalar "x" 8-11 3',
      'close ] 12 2',
      'key "bé" 13-22 1',
      'open { 23 2',
      'key "c" 24-27 2',
      'scalar null 28-32 3',
      'close } 33 2',
      'close } 34 1',
    ]);
    // Only down to reportDepth, keys only down to keyDepth.
    expect(tokens(bytes, [], { reportDepth: 2, keyDepth: 1 })).toEqual(['open { 0 1', 'key "a" 1-4 1', 'open [ 5 2', 'close ] 12 2', 'key "bé" 13-22 1', 'open { 23 2', 'close } 33 2', 'close } 34 1']);
    // Every scalar's span is a value JSON.parse reads as the whole document does.
    const doc = Buffer.from(GOOD[8]!);
    const values = tokens(doc).filter((e) => e.startsWith('scalar '));
    expect(values.map((v) => JSON.parse(v.split(' ').slice(1, -2).join(' ')) as unknown)).toEqual(['ä/日本/😀 "q" \\ \u0001', 1.5, -2, 3e21]);
  });

  it('decodes a key whose multi-byte characters and escapes are cut at every byte', () => {
    const key = 'ä日😀\\"\\u00e9\\ud83d\\ude00';
    const bytes = Buffer.from(`{"${key}":1}`);
    const want = JSON.parse(`"${key}"`) as string;
    for (let cut = 0; cut <= bytes.length; cut++) {
      for (let cut2 = cut; cut2 <= bytes.length; cut2 += 3) expect(tokens(bytes, [cut, cut2])[1], `cut at ${cut}, ${cut2}`).toBe(`key ${JSON.stringify(want)} 1-${bytes.length - 3} 1`);
    }
  });

  it('refuses bytes that are not UTF-8, cut at every byte of the character', () => {
    const bad = [
      [0x80], // a continuation alone
      [0xc0, 0xaf], // overlong
      [0xc1, 0xbf],
      [0xe0, 0x80, 0xaf], // overlong
      [0xed, 0xa0, 0x80], // a surrogate encoded (CESU-8): a lone surrogate in the bytes
      [0xed, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xf5, 0x80, 0x80, 0x80],
      [0xff],
      [0xe6, 0x97], // cut short by the quote
      [0xf0, 0x9f, 0x98, 0x41],
    ];
    for (const seq of bad) {
      const bytes = Buffer.concat([Buffer.from('["a'), Buffer.from(seq), Buffer.from('"]')]);
      for (let cut = 0; cut <= bytes.length; cut++) {
        expect(() => tokens(bytes, [cut]), `${Buffer.from(seq).toString('hex')} cut at ${cut}`).toThrow(/invalid UTF-8/);
      }
    }
    for (const ok of ['é', '日', '😀', '\u{10ffff}', '\u{800}', '\u{ffff}']) {
      const bytes = Buffer.from(`["${ok}"]`);
      for (let cut = 0; cut <= bytes.length; cut++) expect(accepts(bytes, [cut])).toBe(true);
    }
  });

  it('names the file and the byte offset of what is wrong', () => {
    const fail = (text: string | Buffer) => {
      try {
        tokens(Buffer.from(text), [3], { file: 'rec.json' });
      } catch (e) {
        return e as JsonTokenError;
      }
      throw new Error(`accepted ${text}`);
    };
    const e = fail('{"a":[1,2,}');
    expect(e).toBeInstanceOf(SyntaxError);
    expect([e.file, e.offset, e.problem]).toEqual(['rec.json', 10, "expected a value, got '}'"]);
    expect(e.message).toBe("rec.json: byte 10: expected a value, got '}'");
    expect(fail('{"a":"\\q"}').message).toBe('rec.json: byte 7: a bad escape \\q');
    expect(fail('{"a":"x').message).toBe('rec.json: byte 7: the input ends inside a string');
    expect(fail('{"a":[1').message).toBe('rec.json: byte 7: the input ends inside a value');
    expect(fail('{"a":01}').message).toBe('rec.json: byte 6: a number with a leading zero');
    expect(fail('{} {}').message).toBe("rec.json: byte 3: text after the value: '{'");
    expect(fail('["\u0001"]').message).toBe('rec.json: byte 2: a control character in a string');
    expect(fail(Buffer.from([0x5b, 0x22, 0x61, 0xff, 0x22, 0x5d])).message).toBe('rec.json: byte 3: invalid UTF-8');
  });

  it('bounds nesting by a limit, not by the call stack', () => {
    const deep = (n: number) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);
    expect(accepts(deep(4096))).toBe(true);
    expect(() => tokens(deep(4097))).toThrow(/byte 4096: nesting deeper than 4096/);
    expect(() => tokens(deep(100_000), [50_000])).toThrow(/nesting deeper than 4096/);
    expect(accepts(Buffer.from(`${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`))).toBe(true);
    let depth = 0;
    new JsonTokenizer({ open: (_a, _s, d) => (depth = Math.max(depth, d)) }, { maxNesting: 200_000 }).push(deep(100_000));
    expect(depth).toBe(100_000);
  });

  it('steps over one value inside a buffer', () => {
    const bytes = Buffer.from('xx{"a":[1,{"b":"]"}]} ,12,"s"');
    expect(scanValue(bytes, 2, {})).toBe(21);
    expect(scanValue(bytes, 23, {})).toBe(25); // a number ends at the byte after it
    expect(scanValue(bytes, 26, {})).toBe(29); // the last value of the buffer
    const els: string[] = [];
    scanValue(bytes, 7, { scalar: (s, e, d) => d === 2 && els.push(`${s}-${e}`), close: (_a, e, d) => d === 2 && els.push(`}${e}`) }, { reportDepth: 2 });
    expect(els).toEqual(['8-9', '}19']);
    expect(() => scanValue(Buffer.from('[1,2'), 0, {})).toThrow(/ends inside a value/);
    expect(() => scanValue(Buffer.from('12'), 0, {}, { file: 'f' })).not.toThrow();
  });

  it('holds no more than the key being read, whatever the size of a value', () => {
    // A 16 MiB string pushed 64 KiB at a time: nothing of it is kept (only keys are).
    const t = new JsonTokenizer({ scalar: () => undefined });
    const piece = Buffer.alloc(1 << 16, 0x61);
    t.push(Buffer.from('["'));
    for (let n = 0; n < 256; n++) t.push(piece);
    t.push(Buffer.from('"]'));
    t.end();
    expect(t.offset).toBe(4 + 256 * (1 << 16));
  });
});
