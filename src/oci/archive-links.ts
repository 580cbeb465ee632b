// Links between the members of a docker-save archive. `docker save` writes a layer that the image holds twice (two
// steps that made the same bytes) once, and the second as a symbolic link to the first
// (`<id>/layer.tar -> ../<id0>/layer.tar`): such an archive was refused (`layer <id>/layer.tar is missing`). A link
// is followed to a file member of the archive only; one that leads out of it (`../../etc/passwd`, an absolute
// target) is refused by name, never read from the disk.
import path from 'node:path';

/** A member's name as the archive walk gives it: no empty or `.` parts (`./a//b` is `a/b`). */
export function memberName(name: string): string {
  return name.split('/').filter((p) => p !== '' && p !== '.').join('/');
}

/** Where a link member points, as a member name; undefined when the target is outside the archive. */
function linkTarget(member: string, type: 'symlink' | 'link', linkname: string): string | undefined {
  if (linkname.startsWith('/')) return undefined;
  // A symbolic link is relative to its folder; a hard link names a member from the archive's root.
  const joined = type === 'symlink' ? path.posix.join(path.posix.dirname(member), linkname) : linkname;
  const target = memberName(path.posix.normalize(joined));
  return target === '..' || target.startsWith('../') || target === '' ? undefined : target;
}

export type Resolved = { member: string } | { outside: string } | undefined;

export class ArchiveLinks {
  private readonly links = new Map<string, { linkname: string; target: string | undefined }>();

  /** Notes a link member (other members are not links). */
  add(member: string, type: string | undefined, linkname: string | null | undefined): void {
    if ((type === 'symlink' || type === 'link') && linkname) this.links.set(member, { linkname, target: linkTarget(member, type, linkname) });
  }

  /** The file member `name` is, or leads to through links; `outside` names a link target out of the archive. */
  resolve(name: string, isFile: (member: string) => boolean): Resolved {
    let at = memberName(name);
    // A chain of links, or a loop, ends after a few hops.
    for (let hop = 0; hop < 8; hop++) {
      if (isFile(at)) return { member: at };
      const link = this.links.get(at);
      if (!link) return undefined;
      if (link.target === undefined) return { outside: link.linkname };
      at = link.target;
    }
    return undefined;
  }
}
