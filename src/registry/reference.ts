// Image references (`host[:port]/path[:tag][@sha256:…]`) and the rules for talking to a registry host.
import { isIP } from 'node:net';
import { GamelayerError } from '../errors.js';
import { isDigest } from '../oci/layout.js';
import { hostOnlyMessage, registryHostOnly } from '../util/host-only-reference.js';
import { hostName } from './host-name.js';

export interface ImageReference {
  /** Registry host as used in URLs, e.g. `123456789012.dkr.ecr.us-east-1.amazonaws.com` or `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `studio/game`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** Set when the reference was written with an explicit `http://` or `https://` prefix. */
  scheme?: 'http' | 'https';
}

const DOCKER_HUB = 'registry-1.docker.io';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

function badReference(ref: string, why: string): GamelayerError {
  return new GamelayerError(
    'registry.reference',
    `invalid image reference "${redactReference(ref)}": ${why}`,
    'expected host[:port]/repository[:tag][@sha256:digest], e.g. 127.0.0.1:5000/studio/game:v1',
  );
}

/** The error for a registry host written with no repository after it (`127.0.0.1:5000`), when `ref` is one. */
export function hostOnlyReferenceError(ref: string): GamelayerError | undefined {
  const host = registryHostOnly(ref);
  return host === undefined ? undefined : badReference(ref, hostOnlyMessage(ref, host));
}

/** Parses a reference; a first component with a `.`, a `:` or `localhost` is the registry host (Docker's rule). */
export function parseReference(ref: string): ImageReference {
  const shown = redactReference(ref);
  const bad = (why: string) => badReference(ref, why);
  let rest = ref.trim();
  let scheme: 'http' | 'https' | undefined;
  const schemeMatch = /^(https?):\/\//.exec(rest);
  if (schemeMatch) {
    scheme = schemeMatch[1] as 'http' | 'https';
    rest = rest.slice(schemeMatch[0].length);
  }
  // skopeo's and podman's transport prefix: it read as a host "docker:" and failed on the path's letters.
  if (/^docker:\/\//i.test(rest)) throw bad(`"docker://" is skopeo's transport prefix, not part of a reference: write ${redactReference(rest.slice('docker://'.length)) || 'host[:port]/repository'}`);
  // `user:password@host/…`: an `@` before the first `/` is user-info, never a digest (which follows the path).
  if (USER_INFO.test(rest)) {
    throw new GamelayerError(
      'registry.reference-credentials',
      `invalid image reference "${shown}": it carries credentials (user-info before "@"); a reference names an image, not who may read it`,
      'drop "user:password@" and pass the user with --username USER --password-stdin (or GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD, or docker login)',
    );
  }
  if (scheme && !rest.includes('/')) throw bad('a registry URL needs a repository after the host');
  // `127.0.0.1:5000` alone is Docker Hub's library/127.0.0.1 by the grammar: never what was meant, never asked there.
  const hostOnly = hostOnlyReferenceError(rest);
  if (hostOnly) throw hostOnly;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw bad(`digest "${digest}" is not sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag "${tag}" must be 1-128 letters, digits, "_", "." or "-" and not start with "." or "-"`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (scheme || first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || parts.some((p) => !PATH_COMPONENT.test(p))) {
    throw bad('repository path components must be lower-case letters and digits separated by ".", "_", "__" or "-"');
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (registry === 'docker.io' || registry === 'index.docker.io') registry = DOCKER_HUB;
  return { registry, repository: parts.join('/'), tag, digest, ...(scheme ? { scheme } : {}) };
}

/** `user:password@` (or `user@`) ahead of the host: the first `@` comes before the first `/`. */
const USER_INFO = /^[^/]*@/;

/**
 * A reference as it may be printed: any user-info (`user:password@`) ahead of a host replaced by `***@`, whether
 * after a scheme or not, wherever it stands in a longer text. Passwords never reach a message or a log.
 */
export function redactReference(text: string): string {
  return text
    .replace(/\b(https?:\/\/)[^\s/@"']*@/g, '$1***@')
    .replace(/(^|[\s"'(])(?![a-z]+:\/\/)[^\s/@"'(]+@(?=[^\s/@"']+\/)/g, '$1***@');
}

export function formatReference(r: ImageReference): string {
  return `${r.scheme ? `${r.scheme}://` : ''}${r.registry}/${r.repository}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Loopback hosts may be spoken to in plain HTTP: nothing leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host).toLowerCase();
  if (name === 'localhost') return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1';
  return false;
}

/**
 * The base URL of a registry: HTTPS by default; plain HTTP for loopback hosts or when `insecure` is set explicitly.
 * Throws when an explicit `http://` URL names a non-loopback host without `insecure`.
 */
export function registryBaseUrl(host: string, insecure = false): URL {
  const m = /^(https?):\/\/(.+?)\/?$/.exec(host);
  const scheme = m?.[1];
  const bare = m?.[2] ?? host;
  if (scheme === 'http' && !insecure && !isLoopbackHost(bare)) {
    throw new GamelayerError(
      'registry.insecure',
      `refusing plain HTTP to ${bare}: only loopback registries are spoken to without TLS`,
      'use https, or pass --insecure (insecure: true) if you really mean to send images unencrypted',
    );
  }
  const useHttp = scheme === 'http' || (scheme === undefined && (insecure || isLoopbackHost(bare)));
  return new URL(`${useHttp ? 'http' : 'https'}://${bare}`);
}

/** Checks that a URL the registry sent us (Location, token realm) may be used under the same TLS rule. */
export function assertTransportAllowed(url: URL, insecure: boolean, what: string): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && (insecure || isLoopbackHost(url.host))) return;
  throw new GamelayerError(
    'registry.insecure',
    `refusing ${what} over ${url.protocol.replace(':', '')} to ${url.host}: only loopback hosts are spoken to without TLS`,
    'pass --insecure (insecure: true) only if you trust the network between you and the registry',
  );
}
