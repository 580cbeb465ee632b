// A registry (or something in front of one) answering the tag list with what no registry sends: a body that is not
// JSON, tags that are not tag names, a `Link: rel="next"` naming a page already read (an endless listing that grew
// the list with the same page each time). `ls` and `prune` take this list as the repository's tags (prune keeps
// what they name), so each is refused, naming the request, rather than crashing or looping.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { listRemote } from '../src/inventory/remote.js';
import { RegistryClient } from '../src/registry/client.js';
import { MAX_LISTED_TAG_BYTES, MAX_LISTED_TAGS } from '../src/registry/tag-list-bounds.js';
import { runCli } from './support/cli-process.js';

let server: http.Server;
let host: string;
let requests = 0;
// A second server on loopback: a `next` link pointing there must not be followed.
let other: http.Server;
let elsewhere: string;
let elsewhereRequests = 0;

const pages: Record<string, (res: http.ServerResponse, url: string) => void> = {
  notjson: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"name": "x", "tags": ['),
  notstrings: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'x', tags: ['v1', { evil: true }] })),
  astring: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'x', tags: 'v1' })),
  badname: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'x', tags: ['v1', '../../x'] })),
  // Two pages, each naming the other as the next.
  loop: (res, url) =>
    res
      .writeHead(200, { 'content-type': 'application/json', link: `</v2/loop/tags/list?n=1000${url.includes('last=') ? '' : '&last=v1'}>; rel="next"` })
      .end(JSON.stringify({ name: 'loop', tags: ['v1'] })),
  // A next page on another host (one that lists fewer tags: prune keeps what the listing names).
  away: (res) =>
    res
      .writeHead(200, { 'content-type': 'application/json', link: `<http://${elsewhere}/v2/away/tags/list?n=1000&last=v1>; rel="next"` })
      .end(JSON.stringify({ name: 'away', tags: ['v1'] })),
  // Full pages of short tags, and of the longest tags: each listing ends (no next) only a little past the bound it
  // passes, so a listing read without bounds ends too, with what no repository should be taken to hold.
  endless: (res, url) => pageOf(res, url, 'endless', (p, i) => `p${p}-${i}`, Math.ceil(MAX_LISTED_TAGS / 1000) + 2),
  wide: (res, url) => pageOf(res, url, 'wide', (p, i) => `p${p}-${i}-`.padEnd(128, 'x'), Math.ceil(MAX_LISTED_TAG_BYTES / (1000 * 131)) + 2),
  fine: (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'fine', tags: ['v1', 'v2.gamelayer-record'] })),
};

/** Page `last` + 1 of `repo` (the query's `last` is the page read before): n tags named by `tag`, a next up to page `pages`. */
function pageOf(res: http.ServerResponse, url: string, repo: string, tag: (page: number, i: number) => string, pages: number): void {
  const query = new URL(url, 'http://x').searchParams;
  const n = Number(query.get('n'));
  const page = Number(query.get('last') ?? -1) + 1;
  const link = page + 1 < pages ? { link: `</v2/${repo}/tags/list?n=${n}&last=${page}>; rel="next"` } : {};
  res.writeHead(200, { 'content-type': 'application/json', ...link }).end(JSON.stringify({ name: repo, tags: Array.from({ length: n }, (_, i) => tag(page, i)) }));
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests++;
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    const m = /^\/v2\/([a-z]+)\/tags\/list/.exec(req.url ?? '');
    const page = m && pages[m[1]!];
    if (page) return page(res, req.url!);
    // Repositories whose one tag names a manifest no registry holds: not JSON, or a layer size that is text.
    // nullentry / nulllayer: an index entry, or a layer descriptor, that is null.
    const manifest = /^\/v2\/(badjson|badsize|nullentry|nulllayer)\/(tags\/list|manifests\/v1)/.exec(req.url ?? '');
    if (manifest) {
      if (manifest[2] === 'tags/list') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: manifest[1], tags: ['v1'] }));
      const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'a'.repeat(64)}`, size: '12' };
      const config = { ...layer, mediaType: 'application/vnd.oci.image.config.v1+json', size: 2 };
      const body =
        manifest[1] === 'badjson'
          ? '{"schemaVersion": 2,'
          : manifest[1] === 'nullentry'
            ? JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [null] })
            : JSON.stringify({ schemaVersion: 2, config, layers: manifest[1] === 'nulllayer' ? [{ ...layer, size: 12 }, null] : [layer] });
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digest }).end(body);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  other = http.createServer((_req, res) => {
    elsewhereRequests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'away', tags: [] }));
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  elsewhere = `127.0.0.1:${(other.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => other.close(() => r()));
});

const client = () => new RegistryClient({ host, retry: { attempts: 1 } });

describe('a tag list no registry sends', () => {
  it('takes a sound one', async () => {
    expect(await client().listTags('fine')).toEqual(['v1', 'v2.gamelayer-record']);
  });

  it('refuses a body that is not JSON, naming the request', async () => {
    await expect(client().listTags('notjson')).rejects.toMatchObject({ code: 'registry.bad-answer', message: expect.stringContaining('list tags of notjson') });
    await expect(client().listTags('notjson')).rejects.toThrow(/answered HTTP 200 with a tag list that is not JSON/);
  });

  for (const name of ['notstrings', 'astring', 'badname']) {
    it(`refuses tags that are not tag names (${name})`, async () => {
      await expect(client().listTags(name)).rejects.toMatchObject({ code: 'registry.bad-answer' });
      await expect(client().listTags(name)).rejects.toThrow(/answered HTTP 200 with a tag list whose tags are not all tag names/);
    });
  }

  it('refuses a next page already read, after one request more', async () => {
    requests = 0;
    await expect(client().listTags('loop')).rejects.toThrow(/list tags of loop: .* answered HTTP 200 with Link rel="next" to a page already read/);
    expect(requests).toBe(2);
  });

  it('refuses a next page on another host, without asking it (its listing would be taken for the repository\'s tags)', async () => {
    elsewhereRequests = 0;
    await expect(client().listTags('away')).rejects.toMatchObject({ code: 'registry.bad-answer' });
    await expect(client().listTags('away')).rejects.toThrow(new RegExp(`list tags of away: .* answered HTTP 200 with Link rel="next" to another host \\(${elsewhere}\\)`));
    expect(elsewhereRequests).toBe(0);
  });

  it('refuses a listing of more tags than it holds, naming the repository, after the page that passed the bound (ls, the CLI)', async () => {
    requests = 0;
    const r = await runCli(['ls', `${host}/endless`], { env: { GAMELAYER_REGISTRY_RETRIES: '1' } });
    expect(r.stderr).toContain(`error[registry.too-large]: list tags of ${host}/endless: the registry listed more than ${MAX_LISTED_TAGS} tags`);
    expect(r.code).toBe(1);
    // The first request is the /v2/ check of the CLI's client.
    expect(requests).toBeLessThanOrEqual(MAX_LISTED_TAGS / 1000 + 2);
  }, 120_000);

  it('refuses a listing of more bytes than it holds, naming the repository', async () => {
    await expect(client().listTags('wide')).rejects.toMatchObject({
      code: 'registry.too-large',
      message: `list tags of ${host}/wide: the registry listed more than ${MAX_LISTED_TAG_BYTES} bytes of tag list, more than gamelayer reads of one repository's tags`,
    });
  }, 120_000);

  it('ls: refuses a manifest that is not JSON, or whose layer size is not a byte count, naming the tag', async () => {
    await expect(listRemote(client(), 'badjson')).rejects.toThrow(new RegExp(`^${host}/badjson:v1: the manifest is not JSON; that is not a registry's answer$`));
    await expect(listRemote(client(), 'badsize')).rejects.toMatchObject({
      code: 'registry.bad-answer',
      message: `${host}/badsize:v1: the manifest's descriptors are not digests with byte counts; that is not a registry's answer`,
    });
  });

  it('ls (the CLI): an index entry or a layer descriptor that is null is refused naming the tag (was error[internal])', async () => {
    for (const repo of ['nullentry', 'nulllayer']) {
      const r = await runCli(['ls', `${host}/${repo}`], { env: { GAMELAYER_REGISTRY_RETRIES: '1' } });
      expect(r.stderr).toContain(`error[registry.bad-answer]: ${host}/${repo}:v1: the manifest's descriptors are not digests with byte counts; that is not a registry's answer`);
      expect(r.code).toBe(1);
    }
  });
});
