// A registry host written where an image repository belongs (`registry: 127.0.0.1:5000`, `ls localhost:5000`).
// Docker's grammar reads such a text as the Docker Hub image `library/<host>` tagged with the port, so it parses,
// and a push or a read went to Docker Hub under that name. Shared by the config schema and the reference parser.

/**
 * A name a single-component reference cannot mean as a Docker Hub image: localhost, an IP address, a dotted host. An
 * IPv4 address is a dotted host, and an IPv6 one cannot be here (the name ends at the first ':'); `net.isIP` was
 * asked too, and its IPv6 expression, compiled on first use, cost 3-5 ms of every build's config check.
 */
function hostLike(name: string): boolean {
  return name.toLowerCase() === 'localhost' || (name.includes('.') && /^[a-z0-9.-]+$/i.test(name));
}

/**
 * The registry host (`HOST[:PORT]`) a reference names when it names nothing else: no `/`, only a host, perhaps a
 * port, perhaps a tag after those. Undefined for every other text (`debian`, `ubuntu:22.04`, `host/repo`).
 */
export function registryHostOnly(reference: string): string | undefined {
  const text = reference.trim().replace(/@.*$/, '');
  if (text.includes('/') || text === '') return undefined;
  const [name = '', second, third] = text.split(':');
  if (!hostLike(name)) return undefined;
  const port = second !== undefined && /^\d+$/.test(second) ? second : undefined;
  if (third !== undefined && port === undefined) return undefined;
  return port === undefined ? name : `${name}:${port}`;
}

/** What to tell the user about such a reference, the repository written after the host as an example. */
export function hostOnlyMessage(reference: string, host: string): string {
  return `${host} is a registry host with no repository after it (Docker would read "${reference.trim()}" as the Docker Hub image library/${host.split(':')[0]}): write host[:port]/repository, such as ${host}/studio/my-game`;
}
