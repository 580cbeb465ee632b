// Fields a test support hook fills in its beforeAll, read through getters: a read before that hook ran says which
// hook, instead of handing out undefined.

/** `x`, or an error naming `hook` when its beforeAll has not filled it yet. */
export function started<T>(x: T | undefined, hook: string): T {
  if (x === undefined) throw new Error(`${hook}: read before its beforeAll ran`);
  return x;
}
