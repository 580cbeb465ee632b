// xxh64 of bytes where they lie. The zstd layer writer reads files straight into its feed's shared slots, and
// xxhash-wasm hashes only bytes inside its own memory: each MiB was first copied there (out of shared memory, with
// V8's byte-wise relaxed copy: 0.18 s of the main thread for the 3.1 GB game). Here the same wasm module has its
// memory made an import, and is instantiated on shared memories that hold such slots (`sharedXxhMemory`): bytes in
// one are hashed in place; any other bytes are copied into the memory of an instance of this module's own (not
// shared), as xxhash-wasm does.
// The hash is xxhash-wasm's (test/xxh64-shared.test.ts).
import { XXHASH_WASM } from './xxh64-module.js';

/** Bytes of the xxh64 state (xxhash-wasm's create64), kept between updates at the start of a memory. */
const STATE = 88;
const PAGE = 65536;
/** The start of a memory from `sharedXxhMemory` is the hasher's (its state); the caller's bytes begin here. */
export const XXH_RESERVED = PAGE;
/** Bytes of other memory hashed per call through this module's own memory (the copy's size). */
const HOME_BYTES = 1 << 20;

interface Instance {
  bytes: Uint8Array;
  init64(state: number, seed: bigint): void;
  update64(state: number, at: number, length: number): void;
  digest64(state: number): bigint;
  /** One-shot xxh64 of `length` bytes at `at`. */
  xxh64(at: number, length: number, seed: bigint): bigint;
}

/**
 * The module with its memory section replaced by an import of a shared memory (`env.memory`): the one change that
 * lets an instance work on a memory that is also a SharedArrayBuffer the feed's thread reads. Functions keep their
 * indices (an imported memory is no function), and the code addresses memory 0 as before.
 */
export function withImportedMemory(wasm: Uint8Array): Uint8Array<ArrayBuffer> {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 127;
      n >>>= 7;
      if (n) b |= 128;
      out.push(b);
    } while (n);
    return out;
  };
  const name = (s: string) => [...leb(s.length), ...Buffer.from(s)];
  // One import: module "env", field "memory", kind memory, limits flags 3 (max given, shared), min 1, max 65536 pages.
  const importBody = [1, ...name('env'), ...name('memory'), 2, 3, ...leb(1), ...leb(65536)];
  const out: number[] = [...wasm.subarray(0, 8)];
  let inserted = false;
  for (let i = 8; i < wasm.length; ) {
    const id = wasm[i++]!;
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = wasm[i++]!;
      size |= (b & 127) << shift;
      if (!(b & 128)) break;
    }
    const body = wasm.subarray(i, i + size);
    i += size;
    if (id === 2) throw new Error('xxhash module: it imports already');
    if (!inserted && id !== 0 && id > 2) {
      out.push(2, ...leb(importBody.length), ...importBody);
      inserted = true;
    }
    if (id === 5) continue; // its own memory: replaced by the import
    out.push(id, ...leb(size), ...body);
  }
  return Uint8Array.from(out);
}

let compiled: WebAssembly.Module | undefined;
const byMemory = new WeakMap<ArrayBufferLike, Instance>();

function instantiate(memory: WebAssembly.Memory): Instance {
  compiled ??= new WebAssembly.Module(withImportedMemory(Buffer.from(XXHASH_WASM, 'base64')));
  const e = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Omit<Instance, 'bytes'>;
  const x: Instance = { bytes: new Uint8Array(memory.buffer), init64: e.init64, update64: e.update64, digest64: e.digest64, xxh64: e.xxh64 };
  byMemory.set(memory.buffer, x);
  return x;
}

/**
 * A shared memory of `bytes` beyond XXH_RESERVED (fixed: it never grows, so its buffer stays the same object), with
 * an xxh64 instance of its own: bytes lying in it (at XXH_RESERVED or later) are hashed where they are.
 */
export function sharedXxhMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.ceil((XXH_RESERVED + bytes) / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  instantiate(memory);
  return memory;
}

let home: Instance | undefined;

/**
 * The module as it is, on its own memory (not shared: V8 copies into shared memory byte-wise, relaxed), for bytes
 * that lie anywhere else: as xxhash-wasm does, they are copied there to be hashed.
 */
function ownInstance(): Instance {
  const e = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(XXHASH_WASM, 'base64'))).exports as unknown as Omit<Instance, 'bytes'> & { mem: WebAssembly.Memory };
  e.mem.grow(Math.max(0, 1 + HOME_BYTES / PAGE - e.mem.buffer.byteLength / PAGE));
  return { bytes: new Uint8Array(e.mem.buffer), init64: e.init64, update64: e.update64, digest64: e.digest64, xxh64: e.xxh64 };
}

/** A streaming xxh64 (seed 0) whose state lives here, so each update goes to the instance where the bytes lie. */
export function createXxh64InPlace(): { update(b: Uint8Array): void; digest(): bigint } {
  const own = (home ??= ownInstance());
  const state = new Uint8Array(STATE);
  own.bytes.fill(0, 0, STATE);
  own.init64(0, 0n);
  state.set(own.bytes.subarray(0, STATE));
  return {
    update(b) {
      const x = byMemory.get(b.buffer);
      if (x && b.byteOffset >= XXH_RESERVED) {
        x.bytes.set(state);
        x.update64(0, b.byteOffset, b.length);
        state.set(x.bytes.subarray(0, STATE));
        return;
      }
      for (let at = 0; at === 0 || at < b.length; at += HOME_BYTES) {
        const part = b.subarray(at, at + HOME_BYTES);
        own.bytes.set(state);
        own.bytes.set(part, PAGE);
        own.update64(0, PAGE, part.length);
        state.set(own.bytes.subarray(0, STATE));
      }
    },
    digest() {
      own.bytes.set(state);
      return BigInt.asUintN(64, own.digest64(0));
    },
  };
}

/** xxh64 (seed 0) of `b` in one call, where it lies if that is a slot memory (a small file read into a feed's slot). */
export function xxh64Once(b: Uint8Array): bigint {
  const x = byMemory.get(b.buffer);
  if (x && b.byteOffset >= XXH_RESERVED) return BigInt.asUintN(64, x.xxh64(b.byteOffset, b.length, 0n));
  if (b.length > HOME_BYTES) {
    const h = createXxh64InPlace();
    h.update(b);
    return h.digest();
  }
  const own = (home ??= ownInstance());
  own.bytes.set(b);
  return BigInt.asUintN(64, own.xxh64(0, b.length, 0n));
}
