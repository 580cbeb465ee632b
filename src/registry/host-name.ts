// A registry host's name without its port: its own module so that ecr-host.ts, which the fast path of a no-op
// bundles, does not pull reference.ts (and with it the error codes) into that bundle.

/** Host name without port (IPv6 brackets removed). */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const i = host.lastIndexOf(':');
  return i >= 0 && host.indexOf(':') === i ? host.slice(0, i) : host;
}
