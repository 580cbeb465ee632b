// A front on 127.0.0.1 that gives a distribution 2.8 registry the OCI distribution 1.1 referrers API: manifests put
// through it that carry a `subject` are remembered, and GET /v2/<repo>/referrers/<digest> answers the OCI index of
// them (with artifactType and annotations, honouring ?artifactType=), as distribution 3, zot or ECR do. A manifest
// put with a subject is answered with the `OCI-Subject` header; one deleted leaves the lists. Everything else is forwarded unchanged (Host kept,
// so Location URLs point back here).
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReferrersFront {
  host: string;
  /** Referrers API requests answered, and manifests put through the front, in order. */
  seen: { method: string; path: string }[];
  stop(): Promise<void>;
}

interface Referrer {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export async function startReferrersFront(targetHost: string): Promise<ReferrersFront> {
  const [name, port] = [targetHost.slice(0, targetHost.lastIndexOf(':')), Number(targetHost.slice(targetHost.lastIndexOf(':') + 1))];
  const referrers = new Map<string, Referrer[]>(); // `${repo}@${subject}` → referrers
  const seen: ReferrersFront['seen'] = [];

  const forward = (req: IncomingMessage, body: Buffer, res: import('node:http').ServerResponse, extraHeaders: Record<string, string> = {}) => {
    const up = httpRequest({ host: name, port, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': String(body.length) } }, (r) => {
      res.writeHead(r.statusCode ?? 502, { ...r.headers, ...(r.statusCode === 201 ? extraHeaders : {}) });
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://x');
      const api = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
      if (api && req.method === 'GET') {
        seen.push({ method: 'GET', path: url.pathname + url.search });
        const wanted = url.searchParams.get('artifactType');
        const list = (referrers.get(`${api[1]}@${api[2]}`) ?? []).filter((r) => !wanted || r.artifactType === wanted);
        const text = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: list });
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json', 'content-length': String(Buffer.byteLength(text)), ...(wanted ? { 'oci-filters-applied': 'artifactType' } : {}) });
        res.end(text);
        return;
      }
      const put = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
      // A manifest deleted is no longer anyone's referrer (the API lists what is stored).
      if (put && req.method === 'DELETE') {
        seen.push({ method: 'DELETE', path: url.pathname });
        for (const [key, list] of referrers) if (key.startsWith(`${put[1]}@`)) referrers.set(key, list.filter((r) => r.digest !== put[2]));
      }
      if (put && req.method === 'PUT') {
        seen.push({ method: 'PUT', path: url.pathname });
        let m: { subject?: { digest: string }; artifactType?: string; config?: { mediaType?: string }; annotations?: Record<string, string>; mediaType?: string } | undefined;
        try {
          m = JSON.parse(body.toString('utf8'));
        } catch {
          m = undefined;
        }
        if (m?.subject?.digest) {
          const key = `${put[1]}@${m.subject.digest}`;
          const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
          const list = referrers.get(key) ?? [];
          if (!list.some((r) => r.digest === digest)) {
            list.push({
              mediaType: String(req.headers['content-type'] ?? m.mediaType),
              digest,
              size: body.length,
              artifactType: m.artifactType ?? m.config?.mediaType,
              ...(m.annotations ? { annotations: m.annotations } : {}),
            });
          }
          referrers.set(key, list);
          return forward(req, body, res, { 'oci-subject': m.subject.digest });
        }
      }
      forward(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
