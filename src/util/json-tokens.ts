// JSON tokenized over bytes handed a chunk at a time, for the readers that step through a build record file without
// holding it (state/record-members.ts, record-stream.ts): a 1M-entry game's record is 170 MB
// of JSON. It holds no more than its container stack and the key being read; it reports where containers, keys and
// scalars lie (absolute byte offsets) down to a depth its caller sets, and checks the rest as JSON.parse would:
// grammar, numbers, literals, escapes, control characters, nesting, and UTF-8 (which JSON.parse of
// `Buffer.toString` would not: it turns bad bytes into U+FFFD). Escaped lone surrogates (`"\ud800"`) are accepted,
// as JSON.parse accepts them and JSON.stringify writes them. Malformed input is a `JsonTokenError` (a SyntaxError)
// naming the file and the byte offset.

/** What a caller hears of the values at depth `reportDepth` or less (the top-level value is at depth 1). */
export interface JsonEvents {
  /** A `{` or `[` at `start`; `depth` is the container's own. */
  open?(array: boolean, start: number, depth: number): void;
  /** Its closing bracket, `end` just past it. */
  close?(array: boolean, end: number, depth: number): void;
  /** A key of the object at `depth` (when `depth <= keyDepth`), decoded; [start, end) spans its quotes. */
  key?(key: string, start: number, end: number, depth: number): void;
  /** A string, number, true, false or null value [start, end) at `depth`. */
  scalar?(start: number, end: number, depth: number): void;
}

export interface JsonTokenOptions {
  /** Names the input in errors. */
  file?: string;
  /** The absolute offset of the first byte pushed (a scan that starts inside a buffer). */
  offset?: number;
  reportDepth?: number;
  keyDepth?: number;
  /** Containers nested deeper than this are an error (the stack is bytes, not recursion: this only bounds hostile input). */
  maxNesting?: number;
  /** Stop after one complete value (`push` returns where it ended) instead of requiring the input to end there. */
  oneValue?: boolean;
}

/** Malformed JSON: what was wrong, at which byte of which file. */
export class JsonTokenError extends SyntaxError {
  constructor(
    readonly problem: string,
    readonly offset: number,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}byte ${offset}: ${problem}`);
    this.name = 'JsonTokenError';
  }
}

/** Valid JSON nested deeper than the reader's bound: not damaged, only more than any document it reads nests. */
export class JsonNestingError extends JsonTokenError {
  constructor(
    readonly limit: number,
    offset: number,
    file?: string,
  ) {
    super(`nesting deeper than ${limit}`, offset, file);
    this.name = 'JsonNestingError';
  }
}

const enum Mode {
  Value, // a value must come
  ValueOrClose, // after `[`
  KeyOrClose, // after `{`
  Key, // after a `,` in an object
  Colon,
  After, // after a value: `,`, a close, or the end
  String,
  Escape, // after `\`
  Hex, // inside `\uXXXX`
  Utf8, // inside a multi-byte character
  Number,
  Literal,
  Done, // the top-level value ended
}

const enum Num {
  Minus, // after `-`: a digit must come
  Zero, // a leading 0: `.`, `e` or the end
  Int,
  Dot, // a digit must come
  Frac,
  E, // a sign or a digit must come
  ESign, // a digit must come
  Exp,
}

const OBJECT = 1;
const ARRAY = 2;

/** Bytes that continue a string as they are: printable ASCII but `"` and `\`. */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x80; c++) PLAIN[c] = c === 0x22 || c === 0x5c ? 0 : 1;
const SPACE = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) SPACE[c] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
/** What may follow `\`. */
const ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrtu') ESCAPE[c.charCodeAt(0)] = 1;
const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')];

function shown(c: number): string {
  return c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/** A JSON tokenizer over chunks of bytes; see the file's head. */
export class JsonTokenizer {
  /** Values deeper than this are checked but not reported. Settable between pushes and from an event. */
  reportDepth: number;
  /** Keys of objects deeper than this are not decoded nor reported. Settable likewise. */
  keyDepth: number;
  /** The chunk being pushed and the absolute offset of its byte 0 (for an event that wants the bytes). */
  chunk: Uint8Array = new Uint8Array(0);
  chunkBase = 0;

  private readonly events: JsonEvents;
  private readonly file: string | undefined;
  private readonly maxNesting: number;
  private readonly oneValue: boolean;
  private pos: number;
  private mode = Mode.Value;
  /** The container kinds, by depth - 1. */
  private stack = new Uint8Array(64);
  private depth = 0;
  /** The value being read: where it began, and (strings) whether it is a key and its bytes when decoded. */
  private start = 0;
  private isKey = false;
  private keyParts: Uint8Array[] | undefined;
  private keyFrom = 0;
  private hexLeft = 0;
  private utfLeft = 0;
  private utfLo = 0x80;
  private utfHi = 0xbf;
  private num = Num.Int;
  private literal: Buffer = LITERALS[0]!;
  private literalAt = 0;

  constructor(events: JsonEvents, options: JsonTokenOptions = {}) {
    this.events = events;
    this.file = options.file;
    this.pos = options.offset ?? 0;
    this.reportDepth = options.reportDepth ?? Infinity;
    this.keyDepth = options.keyDepth ?? Infinity;
    this.maxNesting = options.maxNesting ?? 4096;
    this.oneValue = options.oneValue ?? false;
  }

  /** The absolute offset of the next byte to be pushed. */
  get offset(): number {
    return this.pos;
  }

  /** Whether the top-level value has ended (with `oneValue`, the scan is over). */
  get done(): boolean {
    return this.mode === Mode.Done;
  }

  private fail(problem: string, at: number): never {
    throw new JsonTokenError(problem, at, this.file);
  }

  /**
   * Tokenizes `chunk[from, to)`. Returns the index just past the last byte taken: `to`, or with `oneValue` where the
   * value ended (a number ends at the byte after it, which is not taken).
   */
  push(chunk: Uint8Array, from = 0, to = chunk.length): number {
    const base = this.pos - from;
    this.chunk = chunk;
    this.chunkBase = base;
    const ev = this.events;
    let mode = this.mode;
    let i = from;
    /** Where the fast path last stopped before a token it left to this loop (which then takes at least one byte). */
    let leftAt = -1;
    if (this.keyParts) this.keyFrom = from;
    try {
      while (i < to) {
        if (mode <= Mode.After && i !== leftAt) {
          this.mode = mode;
          const j = this.fast(chunk, i, to, base);
          mode = this.mode;
          if (mode !== Mode.Done) leftAt = j;
          i = j;
          continue;
        }
        const c = chunk[i]!;
        switch (mode) {
          case Mode.String: {
            // The hot path: a run of plain bytes.
            while (i < to && PLAIN[chunk[i]!]) i++;
            if (i === to) continue;
            const s = chunk[i]!;
            if (s === 0x22) {
              i++;
              this.endString(chunk, i, base);
              mode = this.mode;
            } else if (s === 0x5c) {
              i++;
              mode = Mode.Escape;
            } else if (s >= 0x80) {
              mode = this.utf8Lead(s, base + i);
              i++;
            } else this.fail('a control character in a string', base + i);
            continue;
          }
          case Mode.Escape:
            if (!ESCAPE[c]) this.fail(`a bad escape \\${String.fromCharCode(c)}`, base + i);
            if (c === 0x75) {
              this.hexLeft = 4;
              mode = Mode.Hex;
            } else mode = Mode.String;
            i++;
            continue;
          case Mode.Hex:
            if (!HEX[c]) this.fail('a bad \\u escape', base + i);
            if (--this.hexLeft === 0) mode = Mode.String;
            i++;
            continue;
          case Mode.Utf8:
            if (c < this.utfLo || c > this.utfHi) this.fail('invalid UTF-8', base + i);
            this.utfLo = 0x80;
            this.utfHi = 0xbf;
            if (--this.utfLeft === 0) mode = Mode.String;
            i++;
            continue;
          case Mode.Number: {
            if (this.num === Num.Int && c >= 0x30 && c <= 0x39) {
              i++;
              continue;
            }
            if (this.numberByte(c, base + i)) {
              i++;
              continue;
            }
            const end = base + i;
            if (this.num === Num.Minus || this.num === Num.Dot || this.num === Num.E || this.num === Num.ESign) this.fail('a malformed number', end);
            this.endScalar(end);
            mode = this.mode;
            if (mode === Mode.Done && this.oneValue) return i;
            continue; // the byte that ended it is read again
          }
          case Mode.Literal:
            if (c !== this.literal[this.literalAt]) this.fail(`a bad literal (expected ${this.literal.toString()})`, base + i);
            i++;
            if (++this.literalAt === this.literal.length) {
              this.endScalar(base + i);
              mode = this.mode;
              if (mode === Mode.Done && this.oneValue) return i;
            }
            continue;
          case Mode.Done:
            if (this.oneValue) return i;
            if (!SPACE[c]) this.fail(`text after the value: ${shown(c)}`, base + i);
            i++;
            continue;
        }
        if (SPACE[c]) {
          i++;
          continue;
        }
        const at = base + i;
        switch (mode) {
          case Mode.Value:
          case Mode.ValueOrClose:
            if (c === 0x5d && mode === Mode.ValueOrClose) {
              i++;
              this.close(ARRAY, at + 1);
              mode = this.mode;
              if (mode === Mode.Done && this.oneValue) return i;
              continue;
            }
            if (c === 0x22) {
              // A string read here while it lies in this chunk (most do): no change of mode per byte.
              this.start = at;
              this.isKey = false;
              i++;
              while (i < to && PLAIN[chunk[i]!]) i++;
              if (i < to && chunk[i] === 0x22) {
                i++;
                this.endScalar(base + i);
                mode = this.mode;
                if (mode === Mode.Done && this.oneValue) return i;
              } else mode = Mode.String;
              continue;
            }
            mode = this.beginValue(c, at);
            i++;
            continue;
          case Mode.KeyOrClose:
          case Mode.Key:
            if (c === 0x7d && mode === Mode.KeyOrClose) {
              i++;
              this.close(OBJECT, at + 1);
              mode = this.mode;
              if (mode === Mode.Done && this.oneValue) return i;
              continue;
            }
            if (c !== 0x22) this.fail(`expected a key, got ${shown(c)}`, at);
            this.start = at;
            this.isKey = true;
            if (this.depth <= this.keyDepth && ev.key) {
              this.keyParts = [];
              this.keyFrom = i;
            } else {
              // A key not decoded, read here while it lies in this chunk.
              i++;
              while (i < to && PLAIN[chunk[i]!]) i++;
              if (i < to && chunk[i] === 0x22) {
                i++;
                mode = Mode.Colon;
              } else mode = Mode.String;
              continue;
            }
            mode = Mode.String;
            i++;
            continue;
          case Mode.Colon:
            if (c !== 0x3a) this.fail(`expected ':', got ${shown(c)}`, at);
            mode = Mode.Value;
            i++;
            continue;
          case Mode.After: {
            const kind = this.stack[this.depth - 1];
            if (c === 0x2c && this.depth > 0) mode = kind === OBJECT ? Mode.Key : Mode.Value;
            else if (c === 0x7d && kind === OBJECT) {
              this.close(OBJECT, at + 1);
              mode = this.mode;
            } else if (c === 0x5d && kind === ARRAY) {
              this.close(ARRAY, at + 1);
              mode = this.mode;
            } else this.fail(this.depth === 0 ? `text after the value: ${shown(c)}` : `expected ',' or '${kind === OBJECT ? '}' : ']'}', got ${shown(c)}`, at);
            i++;
            if (mode === Mode.Done && this.oneValue) return i;
            continue;
          }
        }
      }
      // A key being decoded goes on in the next chunk: keep its bytes so far (the caller may reuse `chunk`).
      if (this.keyParts) this.keyParts.push(Uint8Array.prototype.slice.call(chunk, this.keyFrom, to));
      return to;
    } finally {
      this.mode = mode;
      this.pos = base + i;
      this.chunk = new Uint8Array(0);
    }
  }

  /**
   * The fast path of `push`, from a place between tokens (mode Value to After): whole tokens read with the state in
   * locals and no call but the caller's events, which is most of a record's bytes. It stops at `to`, at the end of the
   * top-level value (mode Done), or before a token it leaves to the byte-at-a-time loop: one the chunk cuts, or
   * anything unusual or wrong (a byte that loop refuses is then named exactly as it would be). Returns where it stopped.
   */
  private fast(chunk: Uint8Array, i: number, to: number, base: number): number {
    const ev = this.events;
    const stack = this.stack;
    const deepest = Math.min(this.maxNesting, stack.length);
    let mode = this.mode;
    let depth = this.depth;
    let report = this.reportDepth;
    let keyDepth = this.keyDepth;
    loop: while (i < to) {
      const c = chunk[i]!;
      if (SPACE[c]) {
        i++;
        continue;
      }
      if (c === 0x5d || c === 0x7d) {
        // `]` or `}`: after a value, or at once in an empty container (anything else is the byte loop's to name).
        const array = c === 0x5d;
        if ((mode !== Mode.After && mode !== (array ? Mode.ValueOrClose : Mode.KeyOrClose)) || stack[depth - 1] !== (array ? ARRAY : OBJECT)) break loop;
        if (depth <= report && ev.close) {
          this.depth = depth - 1;
          ev.close(array, base + i + 1, depth);
          report = this.reportDepth;
          keyDepth = this.keyDepth;
        }
        depth--;
        i++;
        if (depth === 0) {
          mode = Mode.Done;
          break loop;
        }
        mode = Mode.After;
        continue;
      }
      switch (mode) {
        case Mode.Value:
        case Mode.ValueOrClose: {
          let j: number;
          if (c === 0x22) {
            j = quotedEnd(chunk, i, to);
            if (j < 0) break loop;
          } else if (c === 0x7b || c === 0x5b) {
            if (depth >= deepest) break loop;
            const array = c === 0x5b;
            stack[depth++] = array ? ARRAY : OBJECT;
            if (depth <= report && ev.open) {
              this.depth = depth;
              ev.open(array, base + i, depth);
              report = this.reportDepth;
              keyDepth = this.keyDepth;
            }
            i++;
            mode = array ? Mode.ValueOrClose : Mode.KeyOrClose;
            continue;
          } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            j = numberEnd(chunk, i, to);
            if (j < 0) break loop;
          } else {
            j = literalEnd(chunk, i, to, c);
            if (j < 0) break loop;
          }
          // A scalar [i, j).
          if (depth < report && ev.scalar) {
            this.depth = depth;
            ev.scalar(base + i, base + j, depth + 1);
            report = this.reportDepth;
            keyDepth = this.keyDepth;
          }
          i = j;
          if (depth === 0) {
            mode = Mode.Done;
            break loop;
          }
          mode = Mode.After;
          continue;
        }
        case Mode.KeyOrClose:
        case Mode.Key: {
          if (c !== 0x22) break loop;
          const j = quotedEnd(chunk, i, to);
          if (j < 0) break loop;
          if (depth <= keyDepth && ev.key) {
            this.depth = depth;
            ev.key(JSON.parse(Buffer.from(chunk.buffer, chunk.byteOffset + i, j - i).toString('utf8')) as string, base + i, base + j, depth);
            report = this.reportDepth;
            keyDepth = this.keyDepth;
          }
          i = j;
          if (i < to && chunk[i] === 0x3a) {
            i++;
            mode = Mode.Value;
          } else mode = Mode.Colon;
          continue;
        }
        case Mode.Colon:
          if (c !== 0x3a) break loop;
          i++;
          mode = Mode.Value;
          continue;
        case Mode.After:
          // (A closing bracket was taken above.)
          if (c !== 0x2c) break loop;
          i++;
          mode = stack[depth - 1] === OBJECT ? Mode.Key : Mode.Value;
          continue;
        default:
          break loop;
      }
    }
    this.mode = mode;
    this.depth = depth;
    return i;
  }

  /** The input is over: throws unless one whole value was read. */
  end(): void {
    const at = this.pos;
    if (this.mode === Mode.Number) {
      if (this.num === Num.Minus || this.num === Num.Dot || this.num === Num.E || this.num === Num.ESign) this.fail('a malformed number', at);
      this.endScalar(at);
    }
    if (this.mode === Mode.Done) return;
    if (this.mode === Mode.Value && this.depth === 0) this.fail('no value', at);
    this.fail(this.mode === Mode.String || this.mode === Mode.Escape || this.mode === Mode.Hex || this.mode === Mode.Utf8 ? 'the input ends inside a string' : 'the input ends inside a value', at);
  }

  private beginValue(c: number, at: number): Mode {
    const depth = this.depth + 1;
    if (c === 0x7b || c === 0x5b) {
      if (depth > this.maxNesting) throw new JsonNestingError(this.maxNesting, at, this.file);
      if (depth > this.stack.length) {
        const grown = new Uint8Array(this.stack.length * 2);
        grown.set(this.stack);
        this.stack = grown;
      }
      const array = c === 0x5b;
      this.stack[this.depth] = array ? ARRAY : OBJECT;
      this.depth = depth;
      if (depth <= this.reportDepth) this.events.open?.(array, at, depth);
      return array ? Mode.ValueOrClose : Mode.KeyOrClose;
    }
    this.start = at;
    if (c === 0x22) {
      this.isKey = false;
      return Mode.String;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.num = c === 0x2d ? Num.Minus : c === 0x30 ? Num.Zero : Num.Int;
      return Mode.Number;
    }
    const literal = c === 0x74 ? LITERALS[0] : c === 0x66 ? LITERALS[1] : c === 0x6e ? LITERALS[2] : undefined;
    if (!literal) this.fail(`expected a value, got ${shown(c)}`, at);
    this.literal = literal;
    this.literalAt = 1;
    return Mode.Literal;
  }

  /** Whether `c` continues the number (and steps its state). */
  private numberByte(c: number, at: number): boolean {
    const digit = c >= 0x30 && c <= 0x39;
    switch (this.num) {
      case Num.Minus:
        if (!digit) return false;
        this.num = c === 0x30 ? Num.Zero : Num.Int;
        return true;
      case Num.Zero:
      case Num.Int:
        if (digit && this.num === Num.Int) return true;
        if (c === 0x2e) this.num = Num.Dot;
        else if (c === 0x65 || c === 0x45) this.num = Num.E;
        else if (digit) this.fail('a number with a leading zero', at);
        else return false;
        return true;
      case Num.Dot:
      case Num.Frac:
        if (digit) this.num = Num.Frac;
        else if (this.num === Num.Frac && (c === 0x65 || c === 0x45)) this.num = Num.E;
        else return false;
        return true;
      case Num.E:
        if (c === 0x2b || c === 0x2d) this.num = Num.ESign;
        else if (digit) this.num = Num.Exp;
        else return false;
        return true;
      case Num.ESign:
      case Num.Exp:
        if (!digit) return false;
        this.num = Num.Exp;
        return true;
    }
  }

  /** A multi-byte character's first byte: how many bytes follow and the range of the next (no overlongs, no surrogates, nothing past U+10FFFF). */
  private utf8Lead(c: number, at: number): Mode {
    if (c >= 0xc2 && c <= 0xdf) this.utfLeft = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      this.utfLeft = 2;
      if (c === 0xe0) this.utfLo = 0xa0;
      else if (c === 0xed) this.utfHi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      this.utfLeft = 3;
      if (c === 0xf0) this.utfLo = 0x90;
      else if (c === 0xf4) this.utfHi = 0x8f;
    } else this.fail('invalid UTF-8', at);
    return Mode.Utf8;
  }

  /** The closing quote was at `i - 1`. */
  private endString(chunk: Uint8Array, i: number, base: number): void {
    const end = base + i;
    if (this.isKey) {
      this.mode = Mode.Colon;
      const parts = this.keyParts;
      if (parts) {
        this.keyParts = undefined;
        const tail = chunk.subarray(this.keyFrom, i);
        const bytes = parts.length ? Buffer.concat([...parts, tail]) : Buffer.from(tail.buffer, tail.byteOffset, tail.length);
        this.events.key!(JSON.parse(bytes.toString('utf8')) as string, this.start, end, this.depth);
      }
      return;
    }
    this.endScalar(end);
  }

  private endScalar(end: number): void {
    const depth = this.depth + 1;
    if (depth <= this.reportDepth) this.events.scalar?.(this.start, end, depth);
    this.mode = this.depth === 0 ? Mode.Done : Mode.After;
  }

  private close(kind: number, end: number): void {
    const depth = this.depth;
    this.depth--;
    if (depth <= this.reportDepth) this.events.close?.(kind === ARRAY, end, depth);
    this.mode = this.depth === 0 ? Mode.Done : Mode.After;
  }
}

/**
 * The index of the closing quote of the string whose bytes go on at `j` (past a run of plain bytes, or not), for the
 * fast path: -1 when the chunk cuts the string or something in it is wrong (left to the byte-at-a-time loop).
 */
function stringEnd(b: Uint8Array, j: number, to: number): number {
  for (;;) {
    while (j < to && PLAIN[b[j]!]) j++;
    if (j >= to) return -1;
    const c = b[j]!;
    if (c === 0x22) return j;
    if (c === 0x5c) {
      if (j + 1 >= to) return -1;
      const e = b[j + 1]!;
      if (!ESCAPE[e]) return -1;
      if (e === 0x75) {
        if (j + 6 > to || !(HEX[b[j + 2]!]! & HEX[b[j + 3]!]! & HEX[b[j + 4]!]! & HEX[b[j + 5]!]!)) return -1;
        j += 6;
      } else j += 2;
      continue;
    }
    // A multi-byte character (as utf8Lead checks it), else a control character.
    let left: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) left = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      left = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      left = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return -1;
    if (j + left >= to) return -1;
    const n = b[j + 1]!;
    if (n < lo || n > hi) return -1;
    for (let k = 2; k <= left; k++) {
      const x = b[j + k]!;
      if (x < 0x80 || x > 0xbf) return -1;
    }
    j += left + 1;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The end of the number at `i`, for the fast path: -1 when malformed or when the chunk may cut it. */
function numberEnd(b: Uint8Array, i: number, to: number): number {
  let j = i;
  if (b[j] === 0x2d) j++;
  if (j >= to) return -1;
  let c = b[j]!;
  if (c === 0x30) j++;
  else if (c >= 0x31 && c <= 0x39) {
    j++;
    while (j < to && isDigit(b[j]!)) j++;
  } else return -1;
  if (j >= to) return -1;
  c = b[j]!;
  if (c === 0x2e) {
    j++;
    if (j >= to || !isDigit(b[j]!)) return -1;
    while (j < to && isDigit(b[j]!)) j++;
    if (j >= to) return -1;
    c = b[j]!;
  }
  if (c === 0x65 || c === 0x45) {
    j++;
    if (j < to && (b[j] === 0x2b || b[j] === 0x2d)) j++;
    if (j >= to || !isDigit(b[j]!)) return -1;
    while (j < to && isDigit(b[j]!)) j++;
    if (j >= to) return -1;
    c = b[j]!;
  }
  // `01`, `1.5.`, `1e5e`: the byte-at-a-time loop names what is wrong.
  if (isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45) return -1;
  return j;
}

/** The end of the literal at `i` (its first byte `c`), for the fast path: -1 when it is not one or the chunk cuts it. */
/**
 * Just past the closing quote of the string whose opening quote is at `b[i]`; -1 as `stringEnd` says. The run of
 * plain bytes is stepped over here (small enough to be inlined into the fast path): most strings end there.
 */
function quotedEnd(b: Uint8Array, i: number, to: number): number {
  let j = i + 1;
  while (j < to && PLAIN[b[j]!]) j++;
  if (j < to && b[j] === 0x22) return j + 1;
  j = stringEnd(b, j, to);
  return j < 0 ? -1 : j + 1;
}

function literalEnd(b: Uint8Array, i: number, to: number, c: number): number {
  if (c === 0x74) return i + 4 <= to && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : -1;
  if (c === 0x66) return i + 5 <= to && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65 ? i + 5 : -1;
  if (c === 0x6e) return i + 4 <= to && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c ? i + 4 : -1;
  return -1;
}

/**
 * Steps over the one value at `bytes[i]` (a scan of a buffer held whole), reporting it to `events` as the tokenizer
 * does (depths relative to it: the value is at 1). Returns the index just past it.
 */
export function scanValue(bytes: Uint8Array, i: number, events: JsonEvents, options: Omit<JsonTokenOptions, 'offset' | 'oneValue'> = {}): number {
  const t = new JsonTokenizer(events, { ...options, offset: i, oneValue: true });
  const end = t.push(bytes, i);
  if (!t.done) t.end();
  return end;
}

// Every path of `push` taken once at load, on a small text in two pieces: a record's single pass is one long call of
// `push`, and a path first taken after the optimizing compiler has run deoptimized it (three times on a 170 MB
// record, which then read at about half speed).
{
  const sample = Buffer.from('{"k":[1,-0.5e+3,0,1E2,true,false,null,"s\\"\\u00e9é😀",{"a":{}},[]],"é":"x"} \n');
  for (let n = 0; n < 3; n++) {
    for (const report of [0, 3]) {
      const t = new JsonTokenizer({ open() {}, close() {}, key() {}, scalar() {} }, { reportDepth: report, keyDepth: report - 1 });
      t.push(sample, 0, 20);
      t.push(sample, 20);
      t.end();
      scanValue(sample, 5, {}, { reportDepth: 1 });
    }
  }
}
