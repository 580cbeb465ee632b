// Where a symlink of a tree really points once every link on its way is followed, as the kernel will in the
// image: a lexical check alone lets `up -> ../../..` plus `esc -> up/../../../etc` leave the tree.

/** Links followed while resolving one target before giving up (Linux's own limit, ELOOP). */
const MAX_HOPS = 40;

export type LinkResolution =
  | { inside: true }
  /** `via`: the link of the tree whose target took the path outside, when it is not the link itself. */
  | { inside: false; why: 'absolute' | 'climbs' | 'loop'; via?: string };

/**
 * Resolves the symlink at `linkPath` (tree-relative) with target `target` against the tree's other symlinks
 * (`links`: tree-relative path → target). Inside when every step stays at or below the tree's root.
 */
export function resolveLink(linkPath: string, target: string, links: ReadonlyMap<string, string>): LinkResolution {
  if (target.startsWith('/')) return { inside: false, why: 'absolute' };
  const stack = linkPath.split('/').slice(0, -1);
  const queue = target.split('/');
  let via: string | undefined;
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) return { inside: false, why: 'climbs', via };
      stack.pop();
      continue;
    }
    stack.push(c);
    if (links.size === 0) continue;
    const here = stack.join('/');
    const next = links.get(here);
    if (next === undefined) continue;
    if (++hops > MAX_HOPS) return { inside: false, why: 'loop', via: here };
    via = here;
    if (next.startsWith('/')) return { inside: false, why: 'absolute', via };
    // The link is replaced by its target, which is relative to the link's own folder.
    stack.pop();
    queue.unshift(...next.split('/'));
  }
  return { inside: true };
}

/** Every symlink among `entries` whose resolution leaves the tree, with why. */
export function linksLeavingTree(
  entries: Iterable<{ path: string; type: string; linkTarget?: string }>,
): { path: string; target: string; resolution: Exclude<LinkResolution, { inside: true }> }[] {
  const links = new Map<string, string>();
  for (const e of entries) if (e.type === 'symlink') links.set(e.path, e.linkTarget ?? '');
  const out: { path: string; target: string; resolution: Exclude<LinkResolution, { inside: true }> }[] = [];
  for (const [p, target] of links) {
    const r = resolveLink(p, target, links);
    if (!r.inside) out.push({ path: p, target, resolution: r });
  }
  return out;
}
