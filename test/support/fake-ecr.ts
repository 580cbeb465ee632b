// A small stand-in for Amazon ECR on 127.0.0.1, in two parts, both backed by a real docker-registry started with
// htpasswd auth for the user `AWS`:
// - the ECR API (AWS JSON 1.1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op>`) for the calls gamelayer
//   makes: GetAuthorizationToken (the registry's own `AWS:<password>`, base64), DescribeRepositories,
//   CreateRepository and BatchCheckLayerAvailability (answered from the registry's storage, so it adds nothing to
//   the registry's access log); BatchDeleteImage (by digest: in the registry's storage what its DELETE does, the
//   revision link and every tag on it; by tag: the tag's link removed from its storage, as ECR untags, and the image
//   deleted with its last tag; an image an index in the repository lists is refused, ImageReferencedByManifestList) and Put/GetLifecyclePolicy (kept per repository). The real
//   SDK talks to it with SigV4: each request's signature is checked against FAKE_CREDENTIALS (test/support/sigv4.ts,
//   shared with fake-codebuild), and its Credential scope is recorded.
// - a front for the registry with ECR's habits: repositories must be created first (404 NAME_UNKNOWN), immutable
//   tags (the setting, less its exclusion filters) answer 400 TAG_INVALID, and mount requests open a plain upload (202) unless blob mounting is on.
// - replication: DescribeRegistry answers the rules set in `replication`; DescribeImageReplicationStatus answers,
//   per destination region of the rules covering the repository, IN_PROGRESS for the first `afterPolls` asks about
//   an image, then copies the repository (its storage: tags, manifests, blobs) into the FakeEcr registered for that
//   region (`replicas`) and answers COMPLETE; a region with no replica, or `never`, stays IN_PROGRESS; `failed` FAILED.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { readStoredBlob, startRegistry, storedManifests, storedTags, type TestRegistry } from './registry.js';
import { checkSigV4, EXPIRED_TOKEN_MESSAGE, expiredSession } from './sigv4.js';

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKEECRTEST00001', secretAccessKey: 'fake-secret-for-tests-only' };
const TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921.';

export interface FakeRepository {
  mutability: 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';
  /** Wildcard filters of tags exempt from `mutability` (imageTagMutabilityExclusionFilters). */
  exclusions?: string[];
  scanOnPush: boolean;
  createdAt: number;
  /** The text given to PutLifecyclePolicy. */
  lifecyclePolicy?: string;
}

export interface EcrCall {
  op: string;
  /** From the SigV4 Credential scope: `<key>/<date>/<region>/<service>/aws4_request`. */
  accessKeyId?: string;
  region?: string;
  service?: string;
  body: Record<string, unknown>;
}

export interface FakeReplicationRule {
  destinations: { region: string; registryId: string }[];
  repositoryFilters?: { filter: string; filterType: 'PREFIX_MATCH' }[];
}

export interface FakeReplica {
  /** The destination region's registry, `never` (it never gets the image) or `failed` (FAILED, code ACCESS_DENIED). */
  to: FakeEcr | 'never' | 'failed';
  /** Asks about an image answered IN_PROGRESS before it is copied; default 1. */
  afterPolls?: number;
}

export interface FakeEcr {
  /** The registry's replication rules (DescribeRegistry). */
  replication: FakeReplicationRule[];
  /** Destination region → where its copy goes. */
  replicas: Map<string, FakeReplica>;
  /** ECR API endpoint URL, for the SDK's `endpoint`. */
  endpoint: string;
  /** The registry front (`127.0.0.1:PORT`): push here. */
  host: string;
  registry: TestRegistry;
  repositories: Map<string, FakeRepository>;
  calls: EcrCall[];
  /** API requests refused for a bad SigV4 signature, with the reason. */
  rejected: string[];
  /** Requests the registry front saw (method, path with query). */
  frontSeen: { method: string; path: string }[];
  /** Lifetime of the tokens it hands out; ECR's is 12 hours. */
  tokenLifetimeMs: number;
  blobMounting: boolean;
  /** The principal (an ARN) a repository policy refuses: its pushes answer 403 DENIED as ECR's do. */
  denyPush?: string;
  /**
   * Calls of `op` after the first `after` wait, unprocessed, until `until` settles; one whose client went away
   * meanwhile (killed) is then dropped, as a request that never reached ECR. `held` counts the calls held. With
   * `processed`, a held call is carried out at once and only its answer waits (`answered` counts those ready): the
   * client dies with ECR's work done.
   */
  hold?: { op: string; after?: number; until: Promise<unknown>; processed?: boolean; calls?: number; held?: number; answered?: number };
  /** The next `times` calls of `op` answer ThrottlingException. */
  throttle(op: string, times: number): void;
  /** The next `times` calls of `op` answer the AWS error `type` (HTTP 400) with `message`. */
  failNext(op: string, times: number, type: string, message: string): void;
  stop(): Promise<void>;
}

export async function startFakeEcr(opts: { tokenLifetimeMs?: number; blobMounting?: boolean; relativeUrls?: boolean } = {}): Promise<FakeEcr> {
  const password = randomBytes(12).toString('hex');
  const registry = await startRegistry({ auth: 'basic', users: [{ username: 'AWS', password }], relativeUrls: opts.relativeUrls });
  const throttles = new Map<string, number>();
  const failures = new Map<string, { times: number; type: string; message: string }>();
  const sockets = new Set<Socket>();
  const track = (s: Server) => s.on('connection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))));

  const api = createServer((req, res) => {
    readBody(req).then((raw) => {
      const op = String(req.headers['x-amz-target'] ?? '').replace(TARGET_PREFIX, '');
      const scope = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
      const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
      fake.calls.push({ op, accessKeyId: scope?.[1], region: scope?.[2], service: scope?.[3], body });
      const left = throttles.get(op) ?? 0;
      if (left > 0) {
        throttles.set(op, left - 1);
        return awsError(res, 'ThrottlingException', 'Rate exceeded');
      }
      const failure = failures.get(op);
      if (failure && failure.times > 0) {
        failure.times--;
        return awsError(res, failure.type, failure.message);
      }
      if (expiredSession(req)) return awsError(res, 'ExpiredTokenException', EXPIRED_TOKEN_MESSAGE);
      if (scope?.[1] !== FAKE_CREDENTIALS.accessKeyId) {
        return awsError(res, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
      }
      // As ECR does: the known key must also have signed this very request, with its secret, for the ECR service.
      const problem = checkSigV4(req, raw, { credentials: FAKE_CREDENTIALS, service: 'ecr' });
      if (problem) {
        fake.rejected.push(problem);
        return awsError(res, 'InvalidSignatureException', `The request signature we calculated does not match the signature you provided (${problem}).`, 403);
      }
      const hold = fake.hold;
      if (hold?.op === op && (hold.calls = (hold.calls ?? 0) + 1) > (hold.after ?? 0)) {
        hold.held = (hold.held ?? 0) + 1;
        if (hold.processed) {
          // The answer is kept (status, headers, body) and sent once `until` settles, if anyone is still there.
          let kept: { status: number; headers: Record<string, string>; body: string } | undefined;
          const late = {
            writeHead(status: number, headers: Record<string, string>) {
              kept = { status, headers, body: '' };
              return late;
            },
            end(text: string) {
              kept!.body = text;
              hold.answered = (hold.answered ?? 0) + 1;
              const send = () => (req.socket.destroyed ? undefined : res.writeHead(kept!.status, kept!.headers).end(kept!.body));
              void hold.until.then(send, send);
            },
          };
          answer(op, body, late as unknown as ServerResponse);
          return;
        }
        const go = () => (req.socket.destroyed ? undefined : answer(op, body, res));
        void hold.until.then(go, go);
        return;
      }
      answer(op, body, res);
    }, () => res.destroy());
  });

  const repoInfo = (name: string, r: FakeRepository) => ({
    registryId: FAKE_ACCOUNT,
    repositoryName: name,
    repositoryArn: `arn:aws:ecr:fake-region:${FAKE_ACCOUNT}:repository/${name}`,
    repositoryUri: `${fake.host}/${name}`,
    createdAt: r.createdAt / 1000,
    imageTagMutability: r.mutability,
    ...(r.exclusions ? { imageTagMutabilityExclusionFilters: r.exclusions.map((filter) => ({ filterType: 'WILDCARD', filter })) } : {}),
    imageScanningConfiguration: { scanOnPush: r.scanOnPush },
  });
  const notFound = (res: ServerResponse, name: string) =>
    awsError(res, 'RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${FAKE_ACCOUNT}'`);

  const polls = new Map<string, number>();
  async function replicationStatus(repo: string, digest: string) {
    const statuses: unknown[] = [];
    const rules = fake.replication.filter((r) => !r.repositoryFilters?.length || r.repositoryFilters.some((f) => repo.startsWith(f.filter)));
    for (const d of rules.flatMap((r) => r.destinations)) {
      const replica = fake.replicas.get(d.region);
      const key = `${d.region} ${digest}`;
      const n = (polls.get(key) ?? 0) + 1;
      polls.set(key, n);
      if (replica?.to === 'failed') {
        statuses.push({ region: d.region, registryId: d.registryId, status: 'FAILED', failureCode: 'ACCESS_DENIED' });
        continue;
      }
      if (!replica || replica.to === 'never' || n <= (replica.afterPolls ?? 1)) {
        statuses.push({ region: d.region, registryId: d.registryId, status: 'IN_PROGRESS' });
        continue;
      }
      // ECR's copy: the repository as stored here, into the destination's storage (blobs first, then the repository).
      const v2 = (root: string) => path.join(root, 'docker/registry/v2');
      await cp(path.join(v2(registry.storageDir), 'blobs'), path.join(v2(replica.to.registry.storageDir), 'blobs'), { recursive: true, force: false });
      await cp(path.join(v2(registry.storageDir), 'repositories', repo), path.join(v2(replica.to.registry.storageDir), 'repositories', repo), { recursive: true, force: true });
      if (!replica.to.repositories.has(repo)) replica.to.repositories.set(repo, { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
      statuses.push({ region: d.region, registryId: d.registryId, status: 'COMPLETE' });
    }
    return statuses;
  }

  function answer(op: string, body: Record<string, unknown>, res: ServerResponse) {
    const repoName = String(body.repositoryName ?? '');
    switch (op) {
      case 'DescribeRegistry':
        return json(res, { registryId: FAKE_ACCOUNT, replicationConfiguration: { rules: fake.replication } });
      case 'DescribeImageReplicationStatus': {
        if (!fake.repositories.has(repoName)) return notFound(res, repoName);
        const digest = String((body.imageId as { imageDigest?: string } | undefined)?.imageDigest ?? '');
        const revision = path.join(registry.storageDir, 'docker/registry/v2/repositories', repoName, '_manifests/revisions/sha256', digest.replace(/^sha256:/, ''));
        if (!/^sha256:[a-f0-9]{64}$/.test(digest) || !existsSync(revision)) {
          return awsError(res, 'ImageNotFoundException', `The image with imageId {imageDigest:'${digest}'} does not exist within the repository with name '${repoName}'`);
        }
        void replicationStatus(repoName, digest).then(
          (replicationStatuses) => json(res, { repositoryName: repoName, imageId: { imageDigest: digest }, replicationStatuses }),
          (e: unknown) => awsError(res, 'ServerException', (e as Error).message),
        );
        return;
      }
      case 'PutLifecyclePolicy': {
        const r = fake.repositories.get(repoName);
        if (!r) return notFound(res, repoName);
        const text = String(body.lifecyclePolicyText ?? '');
        try {
          const rules = (JSON.parse(text) as { rules?: unknown[] }).rules;
          if (!Array.isArray(rules) || rules.length === 0) throw new Error('no rules');
        } catch (e) {
          return awsError(res, 'InvalidParameterException', `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: ${(e as Error).message}`);
        }
        r.lifecyclePolicy = text;
        return json(res, { registryId: FAKE_ACCOUNT, repositoryName: repoName, lifecyclePolicyText: text });
      }
      case 'GetLifecyclePolicy': {
        const r = fake.repositories.get(repoName);
        if (!r) return notFound(res, repoName);
        if (!r.lifecyclePolicy) return awsError(res, 'LifecyclePolicyNotFoundException', `Lifecycle policy does not exist for the repository with name '${repoName}'`);
        return json(res, { registryId: FAKE_ACCOUNT, repositoryName: repoName, lifecyclePolicyText: r.lifecyclePolicy });
      }
      case 'BatchDeleteImage': {
        if (!fake.repositories.has(repoName)) return notFound(res, repoName);
        void batchDelete(repoName, (body.imageIds as { imageDigest?: string; imageTag?: string }[] | undefined) ?? []).then(
          (out) => json(res, out),
          (e: unknown) => awsError(res, 'ServerException', (e as Error).message),
        );
        return;
      }
      case 'GetAuthorizationToken':
        return json(res, {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${password}`).toString('base64'),
              expiresAt: (Date.now() + fake.tokenLifetimeMs) / 1000,
              proxyEndpoint: `http://${fake.host}`,
            },
          ],
        });
      case 'DescribeRepositories': {
        const names = (body.repositoryNames as string[] | undefined) ?? [...fake.repositories.keys()];
        for (const n of names) if (!fake.repositories.has(n)) return notFound(res, n);
        return json(res, { repositories: names.map((n) => repoInfo(n, fake.repositories.get(n)!)) });
      }
      case 'CreateRepository': {
        const name = String(body.repositoryName);
        if (fake.repositories.has(name)) {
          return awsError(res, 'RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${FAKE_ACCOUNT}'`);
        }
        const mutability = String(body.imageTagMutability ?? 'MUTABLE');
        const filters = (body.imageTagMutabilityExclusionFilters as { filterType?: string; filter?: string }[] | undefined) ?? [];
        if (!['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'].includes(mutability)) {
          return awsError(res, 'InvalidParameterException', `Invalid parameter at 'imageTagMutability': ${mutability}`);
        }
        // As ECR: filters go with a *_WITH_EXCLUSION setting only, and are wildcard patterns of tag characters.
        if (mutability.endsWith('_WITH_EXCLUSION') !== filters.length > 0 || filters.some((f) => f.filterType !== 'WILDCARD' || !/^[\w.*-]{1,128}$/.test(f.filter ?? ''))) {
          return awsError(res, 'InvalidParameterException', `Invalid parameter at 'imageTagMutabilityExclusionFilters' for ${mutability}`);
        }
        const r: FakeRepository = {
          mutability: mutability as FakeRepository['mutability'],
          ...(filters.length ? { exclusions: filters.map((f) => f.filter!) } : {}),
          scanOnPush: Boolean((body.imageScanningConfiguration as { scanOnPush?: boolean } | undefined)?.scanOnPush),
          createdAt: Date.now(),
        };
        fake.repositories.set(name, r);
        return json(res, { repository: repoInfo(name, r) });
      }
      case 'BatchCheckLayerAvailability': {
        const name = String(body.repositoryName);
        const digests = (body.layerDigests as string[] | undefined) ?? [];
        if (!fake.repositories.has(name)) return notFound(res, name);
        if (digests.length < 1 || digests.length > 100) {
          return awsError(res, 'InvalidParameterException', `layerDigests must hold 1 to 100 digests, got ${digests.length}`);
        }
        const layers: unknown[] = [];
        const failures: unknown[] = [];
        for (const d of digests) {
          const hex = d.replace(/^sha256:/, '');
          const data = path.join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
          const link = path.join(registry.storageDir, 'docker/registry/v2/repositories', name, '_layers/sha256', hex, 'link');
          // As ECR answers: the size of what it stores (here: the registry's data file).
          if (existsSync(data) && existsSync(link)) layers.push({ layerDigest: d, layerAvailability: 'AVAILABLE', layerSize: statSync(data).size });
          else if (existsSync(data)) layers.push({ layerDigest: d, layerAvailability: 'UNAVAILABLE' });
          else failures.push({ layerDigest: d, failureCode: 'MissingLayerDigest', failureReason: 'Could not find layer' });
        }
        return json(res, { layers, failures });
      }
      default:
        return awsError(res, 'UnknownOperationException', `fake ECR does not implement ${op}`);
    }
  }

  // ECR refuses to delete an image a manifest list / image index in the repository still lists (failure
  // ImageReferencedByManifestList). Judged against the repository as it was when the call came: ECR does not say it
  // takes a call's entries in order, so an index and the images it lists, in one call, are taken not to go.
  async function listedByIndexes(repo: string): Promise<Set<string>> {
    const out = new Set<string>();
    const digests = await storedManifests(registry.storageDir, repo);
    const blobs = await Promise.all(digests.map((d) => readStoredBlob(registry.storageDir, d)));
    digests.forEach((d, i) => {
      const doc = blobs[i] ? (JSON.parse(blobs[i].toString('utf8')) as { manifests?: { digest?: unknown }[] }) : {};
      for (const m of Array.isArray(doc.manifests) ? doc.manifests : []) if (typeof m.digest === 'string' && m.digest !== d) out.add(m.digest);
    });
    return out;
  }

  async function batchDelete(repo: string, ids: { imageDigest?: string; imageTag?: string }[]) {
    const imageIds: unknown[] = [];
    const failures: unknown[] = [];
    const listed = await listedByIndexes(repo);
    const referenced = (id: { imageDigest?: string; imageTag?: string }) =>
      failures.push({ imageId: id, failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image referenced by manifest list' });
    // Read once, kept up to date as this call removes tags (a file read per tag per entry took seconds on big calls).
    const tags = await storedTags(registry.storageDir, repo);
    const manifests = path.join(registry.storageDir, 'docker/registry/v2/repositories', repo, '_manifests');
    const untagOne = async (tag: string) => {
      await rm(path.join(manifests, 'tags', tag), { recursive: true, force: true });
      delete tags[tag];
    };
    // What distribution's DELETE of a manifest does (its revision link goes, then every tag naming it), done in its
    // storage: the registry finds those tags by reading every tag's link, ~30 ms a delete on a repository of 1,000
    // tags, seconds for one call. False when the repository holds no such manifest (the registry's 404).
    const deleteByDigest = async (digest: string): Promise<boolean> => {
      const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
      const link = hex && path.join(manifests, 'revisions/sha256', hex, 'link');
      if (!link || !existsSync(link)) return false;
      await rm(link);
      for (const [t, d] of Object.entries(tags)) if (d === digest) await untagOne(t);
      return true;
    };
    for (const id of ids) {
      if (id.imageTag !== undefined && id.imageDigest === undefined) {
        const digest = tags[id.imageTag];
        if (!digest) failures.push({ imageId: id, failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Requested image not found' });
        else {
          // ECR removes just this tag; the image goes with its last tag (refused while an index lists it).
          const last = !Object.entries(tags).some(([t, d]) => t !== id.imageTag && d === digest);
          if (last && listed.has(digest)) {
            referenced(id);
            continue;
          }
          await untagOne(id.imageTag);
          if (last) await deleteByDigest(digest);
          imageIds.push({ imageTag: id.imageTag, imageDigest: digest });
        }
        continue;
      }
      if (id.imageDigest !== undefined && listed.has(id.imageDigest)) {
        referenced(id);
        continue;
      }
      if (await deleteByDigest(String(id.imageDigest))) imageIds.push({ imageDigest: id.imageDigest });
      else failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
    }
    return { imageIds, failures };
  }

  const [regName, regPort] = [registry.host.split(':')[0]!, Number(registry.host.split(':')[1])];
  const front = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    fake.frontSeen.push({ method: req.method ?? 'GET', path: `${url.pathname}${url.search}` });
    const m = /^\/v2\/(.+?)\/(blobs|manifests|tags|referrers)\/(.*)$/.exec(url.pathname);
    const repo = m?.[1];
    if (repo && !fake.repositories.has(repo)) {
      req.resume();
      return registryError(res, 404, 'NAME_UNKNOWN', `The repository with name '${repo}' does not exist in the registry with id '${FAKE_ACCOUNT}'`);
    }
    // A repository policy refusing the pusher, as ECR answers it (403 DENIED, the action and the policy named).
    if (repo && fake.denyPush && req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      const action = m?.[2] === 'manifests' ? 'ecr:PutImage' : 'ecr:InitiateLayerUpload';
      return registryError(res, 403, 'DENIED', `User: ${fake.denyPush} is not authorized to perform: ${action} on resource: arn:aws:ecr:fake-region:${FAKE_ACCOUNT}:repository/${repo} because no resource-based policy allows the ${action} action`);
    }
    if (m?.[2] === 'blobs' && url.searchParams.has('mount') && !fake.blobMounting) {
      url.searchParams.delete('mount');
      url.searchParams.delete('from');
    }
    readBody(req).then(async (body) => {
      const reference = m?.[2] === 'manifests' ? m[3]! : '';
      if (req.method === 'PUT' && reference && !reference.startsWith('sha256:') && tagImmutable(fake.repositories.get(repo!), reference)) {
        const current = (await storedTags(registry.storageDir, repo!))[reference];
        const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
        if (current && current !== digest) {
          return registryError(res, 400, 'TAG_INVALID', `The image tag '${reference}' already exists in the '${repo}' repository and cannot be overwritten because the repository is immutable.`);
        }
      }
      const up = httpRequest({ host: regName, port: regPort, method: req.method, path: `${url.pathname}${url.search}`, headers: req.headers });
      up.on('error', () => res.destroy());
      up.on('response', (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.end(body);
    }, () => res.destroy());
  });

  track(api);
  track(front);
  await Promise.all([api, front].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const port = (s: Server) => (s.address() as { port: number }).port;
  const fake: FakeEcr = {
    replication: [],
    replicas: new Map(),
    endpoint: `http://127.0.0.1:${port(api)}`,
    host: `127.0.0.1:${port(front)}`,
    registry,
    repositories: new Map(),
    calls: [],
    rejected: [],
    frontSeen: [],
    tokenLifetimeMs: opts.tokenLifetimeMs ?? 12 * 3600_000,
    blobMounting: opts.blobMounting ?? false,
    throttle: (op, times) => throttles.set(op, times),
    failNext: (op, times, type, message) => failures.set(op, { times, type, message }),
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all([api, front].map((s) => new Promise<void>((r) => s.close(() => r()))));
      await registry.stop();
    },
  };
  return fake;
}

/** ECR's rule: a tag an exclusion filter matches has the opposite of the repository's setting. */
function tagImmutable(r: FakeRepository | undefined, tag: string): boolean {
  if (!r) return false;
  const excluded = (r.exclusions ?? []).some((f) => new RegExp(`^${f.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(tag));
  if (r.mutability === 'IMMUTABLE') return true;
  if (r.mutability === 'IMMUTABLE_WITH_EXCLUSION') return !excluded;
  if (r.mutability === 'MUTABLE_WITH_EXCLUSION') return excluded;
  return false;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(8).toString('hex') });
  res.end(JSON.stringify(value));
}

function awsError(res: ServerResponse, type: string, message: string, status = 400): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': randomBytes(8).toString('hex') });
  res.end(JSON.stringify({ __type: type, message }));
}

function registryError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ code, message }] }));
}
