// A local stand-in for AWS CodeBuild's JSON API (AWS JSON 1.1 over HTTP, `X-Amz-Target: CodeBuild_20161006.*`),
// so the real SDK serialises, signs and parses real HTTP traffic. It verifies each request's SigV4 signature
// against the static test credentials, and plays a scripted build per project: every BatchGetBuilds moves the
// build one step along its script.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSigV4, credentialOf, EXPIRED_TOKEN_MESSAGE, expiredSession } from './sigv4.js';

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDFAKECODEBUILD01', secretAccessKey: 'fake/secret/key/for/codebuild/tests' };
export const TEST_REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const TARGET_PREFIX = 'CodeBuild_20161006.';

export const PHASE_ORDER = [
  'SUBMITTED',
  'QUEUED',
  'PROVISIONING',
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
  'FINALIZING',
  'COMPLETED',
] as const;

export interface PhaseContext {
  statusCode: string;
  message: string;
}

/** How a scripted project's builds behave. */
export interface ProjectScript {
  /** The phase that fails (the rest of the build runs on, like CodeBuild's post_build does), if any. */
  failIn?: (typeof PHASE_ORDER)[number];
  failContext?: PhaseContext;
  /** Stay IN_PROGRESS in this phase forever. */
  hangIn?: (typeof PHASE_ORDER)[number];
  /** Answer this many BatchGetBuilds calls with ThrottlingException before serving any. */
  throttleFirst?: number;
  /**
   * A project with batch builds on (StartBuildBatch): its build graph. Every BatchGetBuildBatches moves each
   * running job one phase along its own script and starts the jobs whose dependencies all succeeded.
   */
  batch?: { identifier: string; dependsOn?: string[]; script?: ProjectScript }[];
}

export interface RecordedCall {
  target: string;
  body: Record<string, unknown>;
  /** The access key id from the Authorization header. */
  accessKeyId: string;
  /** When it arrived (ms since the epoch). */
  at: number;
}

interface FakeBuild {
  id: string;
  arn: string;
  project: string;
  number: number;
  sourceVersion?: string;
  env: { name: string; value: string; type?: string }[];
  script: ProjectScript;
  /** How many phases have begun (1 = SUBMITTED in progress). */
  step: number;
  /** A job of a batch: moved along by BatchGetBuildBatches, not by BatchGetBuilds. */
  batchId?: string;
  stopped: boolean;
  startTime: number;
}

interface FakeBatch {
  id: string;
  arn: string;
  project: string;
  number: number;
  sourceVersion?: string;
  env: FakeBuild['env'];
  jobs: { identifier: string; dependsOn: string[]; script: ProjectScript; build?: FakeBuild }[];
  stopped: boolean;
  startTime: number;
  polls: number;
}

export interface FakeCodeBuild {
  endpoint: string;
  calls: RecordedCall[];
  /** Requests refused for a bad signature or credentials, with the reason. */
  rejected: string[];
  /** Requests answered with ThrottlingException. */
  throttled: number;
  project(name: string, script?: ProjectScript): void;
  build(id: string): FakeBuild | undefined;
  batch(id: string): FakeBatch | undefined;
  stop(): Promise<void>;
}

export async function startFakeCodeBuild(): Promise<FakeCodeBuild> {
  const projects = new Map<string, ProjectScript>();
  const builds = new Map<string, FakeBuild>();
  const calls: RecordedCall[] = [];
  const rejected: string[] = [];
  let throttled = 0;
  let buildNumber = 0;
  const throttleLeft = new Map<string, number>();
  const batches = new Map<string, FakeBatch>();
  let batchNumber = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, Buffer.concat(chunks), res);
      } catch (e) {
        send(res, 500, { __type: 'InternalFailure', message: String(e) });
      }
    });
  });

  function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    if (expiredSession(req)) {
      send(res, 400, { __type: 'ExpiredTokenException', message: EXPIRED_TOKEN_MESSAGE });
      return;
    }
    const problem = checkSigV4(req, body, { credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 'codebuild' });
    if (problem) {
      rejected.push(problem);
      send(res, 403, { __type: 'InvalidSignatureException', message: problem });
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
      send(res, 400, { __type: 'UnknownOperationException', message: `unknown target ${target}` });
      return;
    }
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      send(res, 400, { __type: 'SerializationException', message: `content-type ${req.headers['content-type']}` });
      return;
    }
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    const op = target.slice(TARGET_PREFIX.length);
    calls.push({ target: op, body: input, accessKeyId: credentialOf(req)?.accessKeyId ?? '', at: Date.now() });
    switch (op) {
      case 'StartBuild':
        return startBuild(input, res);
      case 'BatchGetBuilds':
        return batchGetBuilds(input, res);
      case 'StopBuild':
        return stopBuild(input, res);
      case 'StartBuildBatch':
        return startBuildBatch(input, res);
      case 'BatchGetBuildBatches':
        return batchGetBuildBatches(input, res);
      case 'StopBuildBatch':
        return stopBuildBatch(input, res);
      default:
        send(res, 400, { __type: 'UnknownOperationException', message: `operation ${op} is not faked` });
    }
  }

  function startBuild(input: Record<string, unknown>, res: ServerResponse): void {
    const project = String(input.projectName ?? '');
    const script = projects.get(project);
    if (!script) {
      send(res, 400, {
        __type: 'ResourceNotFoundException',
        message: `Project cannot be found: arn:aws:codebuild:${TEST_REGION}:${ACCOUNT}:project/${project}`,
      });
      return;
    }
    const uuid = randomUUID();
    const id = `${project}:${uuid}`;
    const build: FakeBuild = {
      id,
      arn: `arn:aws:codebuild:${TEST_REGION}:${ACCOUNT}:build/${id}`,
      project,
      number: ++buildNumber,
      sourceVersion: typeof input.sourceVersion === 'string' ? input.sourceVersion : undefined,
      env: (input.environmentVariablesOverride as FakeBuild['env'] | undefined) ?? [],
      script,
      step: 1,
      stopped: false,
      startTime: Date.now() / 1000,
    };
    builds.set(id, build);
    throttleLeft.set(id, script.throttleFirst ?? 0);
    send(res, 200, { build: describe(build) });
  }

  function startBuildBatch(input: Record<string, unknown>, res: ServerResponse): void {
    const project = String(input.projectName ?? '');
    const script = projects.get(project);
    if (!script) {
      send(res, 400, { __type: 'ResourceNotFoundException', message: `Project cannot be found: arn:aws:codebuild:${TEST_REGION}:${ACCOUNT}:project/${project}` });
      return;
    }
    if (!script.batch) {
      send(res, 400, { __type: 'InvalidInputException', message: `Batch build is not enabled for project ${project}` });
      return;
    }
    const id = `${project}:${randomUUID()}`;
    const batch: FakeBatch = {
      id,
      arn: `arn:aws:codebuild:${TEST_REGION}:${ACCOUNT}:build-batch/${id}`,
      project,
      number: ++batchNumber,
      sourceVersion: typeof input.sourceVersion === 'string' ? input.sourceVersion : undefined,
      env: (input.environmentVariablesOverride as FakeBuild['env'] | undefined) ?? [],
      jobs: script.batch.map((j) => ({ identifier: j.identifier, dependsOn: j.dependsOn ?? [], script: j.script ?? {} })),
      stopped: false,
      startTime: Date.now() / 1000,
      polls: 0,
    };
    batches.set(id, batch);
    send(res, 200, { buildBatch: describeBatch(batch) });
  }

  function jobStatus(j: FakeBatch['jobs'][number]): string | undefined {
    return j.build ? String(describe(j.build).buildStatus) : undefined;
  }

  /** One poll: running jobs move a phase; jobs whose dependencies all succeeded start (after DOWNLOAD_BATCHSPEC). */
  function advanceBatch(batch: FakeBatch): void {
    batch.polls++;
    if (batch.stopped || batch.polls < 2) return;
    for (const j of batch.jobs) if (j.build) advance(j.build);
    for (const j of batch.jobs) {
      if (j.build) continue;
      if (!j.dependsOn.every((d) => jobStatus(batch.jobs.find((x) => x.identifier === d)!) === 'SUCCEEDED')) continue;
      const jobId = `${batch.project}:${randomUUID()}`;
      const build: FakeBuild = {
        id: jobId,
        arn: `arn:aws:codebuild:${TEST_REGION}:${ACCOUNT}:build/${jobId}`,
        project: batch.project,
        number: ++buildNumber,
        sourceVersion: batch.sourceVersion,
        env: batch.env,
        script: j.script,
        step: 1,
        stopped: false,
        startTime: Date.now() / 1000,
        batchId: batch.id,
      };
      builds.set(jobId, build);
      j.build = build;
    }
  }

  function batchComplete(batch: FakeBatch): boolean {
    // Complete when no job runs and none can start any more.
    const running = batch.jobs.some((j) => j.build && !describe(j.build).buildComplete);
    if (running) return false;
    if (batch.stopped) return true;
    return batch.jobs.every((j) => j.build || j.dependsOn.some((d) => { const s = jobStatus(batch.jobs.find((x) => x.identifier === d)!); return s !== undefined && s !== 'SUCCEEDED'; }));
  }

  function describeBatch(batch: FakeBatch): Record<string, unknown> {
    const complete = batch.polls >= 2 && batchComplete(batch);
    const failed = batch.jobs.some((j) => { const s = jobStatus(j); return s !== undefined && s !== 'SUCCEEDED' && s !== 'IN_PROGRESS'; }) || batch.jobs.some((j) => !j.build);
    const status = batch.stopped ? 'STOPPED' : !complete ? 'IN_PROGRESS' : failed ? 'FAILED' : 'SUCCEEDED';
    const t = batch.startTime;
    const phases: Record<string, unknown>[] = [{ phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED', startTime: t, endTime: t + 1, durationInSeconds: 1 }];
    if (batch.polls < 2) phases.push({ phaseType: 'DOWNLOAD_BATCHSPEC', startTime: t + 1 });
    else {
      phases.push({ phaseType: 'DOWNLOAD_BATCHSPEC', phaseStatus: 'SUCCEEDED', startTime: t + 1, endTime: t + 3, durationInSeconds: 2 });
      if (!complete) phases.push({ phaseType: 'IN_PROGRESS', startTime: t + 3 });
      else {
        phases.push({ phaseType: 'IN_PROGRESS', phaseStatus: status, startTime: t + 3, endTime: t + 3 + batch.polls * 7, durationInSeconds: batch.polls * 7 });
        phases.push({ phaseType: status, startTime: t + 3 + batch.polls * 7 });
      }
    }
    return {
      id: batch.id,
      arn: batch.arn,
      buildBatchNumber: batch.number,
      projectName: batch.project,
      startTime: t,
      ...(complete ? { endTime: t + 3 + batch.polls * 7 } : {}),
      currentPhase: (phases[phases.length - 1] as { phaseType: string }).phaseType,
      buildBatchStatus: status,
      complete,
      sourceVersion: batch.sourceVersion,
      phases,
      buildGroups: batch.jobs.map((j) => ({
        identifier: j.identifier,
        dependsOn: j.dependsOn,
        ignoreFailure: false,
        ...(j.build ? { currentBuildSummary: { arn: j.build.arn, requestedOn: j.build.startTime, buildStatus: jobStatus(j) } } : {}),
      })),
      initiator: 'gamelayer-test',
    };
  }

  function batchGetBuildBatches(input: Record<string, unknown>, res: ServerResponse): void {
    const ids = (input.ids as string[] | undefined) ?? [];
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const b = batches.get(id) ?? [...batches.values()].find((x) => x.arn === id);
      if (!b) {
        missing.push(id);
        continue;
      }
      advanceBatch(b);
      found.push(describeBatch(b));
    }
    send(res, 200, { buildBatches: found, buildBatchesNotFound: missing });
  }

  function stopBuildBatch(input: Record<string, unknown>, res: ServerResponse): void {
    const b = batches.get(String(input.id ?? ''));
    if (!b) {
      send(res, 400, { __type: 'ResourceNotFoundException', message: `Build batch ${String(input.id)} not found` });
      return;
    }
    b.stopped = true;
    for (const j of b.jobs) if (j.build && !describe(j.build).buildComplete) j.build.stopped = true;
    send(res, 200, { buildBatch: describeBatch(b) });
  }

  function batchGetBuilds(input: Record<string, unknown>, res: ServerResponse): void {
    const ids = (input.ids as string[] | undefined) ?? [];
    for (const id of ids) {
      const left = throttleLeft.get(id) ?? 0;
      if (left > 0) {
        throttleLeft.set(id, left - 1);
        throttled++;
        send(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
        return;
      }
    }
    const found: unknown[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const b = builds.get(id);
      if (!b) {
        missing.push(id);
        continue;
      }
      if (!b.batchId) advance(b);
      found.push(describe(b));
    }
    send(res, 200, { builds: found, buildsNotFound: missing });
  }

  function stopBuild(input: Record<string, unknown>, res: ServerResponse): void {
    const b = builds.get(String(input.id ?? ''));
    if (!b) {
      send(res, 400, { __type: 'ResourceNotFoundException', message: `Build ${String(input.id)} not found` });
      return;
    }
    b.stopped = true;
    send(res, 200, { build: describe(b) });
  }

  function advance(b: FakeBuild): void {
    if (b.stopped) return;
    const hang = b.script.hangIn ? PHASE_ORDER.indexOf(b.script.hangIn) + 1 : Infinity;
    if (b.step < PHASE_ORDER.length && b.step < hang) b.step++;
  }

  /** The build as CodeBuild describes it after `step` phases have begun. */
  function describe(b: FakeBuild): Record<string, unknown> {
    const complete = b.step >= PHASE_ORDER.length || b.stopped;
    const failIndex = b.script.failIn ? PHASE_ORDER.indexOf(b.script.failIn) : -1;
    const phases = PHASE_ORDER.slice(0, b.step).map((phaseType, i) => {
      const started = b.startTime + i * 7;
      const finished = i < b.step - 1 || (b.stopped && phaseType !== 'COMPLETED');
      if (phaseType === 'COMPLETED') return { phaseType, startTime: started };
      if (!finished) return { phaseType, startTime: started };
      const failed = i === failIndex;
      const status = b.stopped && i === b.step - 1 ? 'STOPPED' : failed ? 'FAILED' : 'SUCCEEDED';
      return {
        phaseType,
        phaseStatus: status,
        startTime: started,
        endTime: started + 7,
        durationInSeconds: 7,
        contexts: failed ? [b.script.failContext ?? { statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command' }] : [{ statusCode: '', message: '' }],
      };
    });
    const failed = failIndex >= 0 && b.step > failIndex + 1;
    const buildStatus = b.stopped ? 'STOPPED' : !complete ? 'IN_PROGRESS' : failed ? 'FAILED' : 'SUCCEEDED';
    const current = PHASE_ORDER[Math.min(b.step, PHASE_ORDER.length) - 1];
    const logStream = b.id.split(':')[1];
    return {
      id: b.id,
      arn: b.arn,
      buildNumber: b.number,
      projectName: b.project,
      startTime: b.startTime,
      ...(complete ? { endTime: b.startTime + b.step * 7 } : {}),
      currentPhase: current,
      buildStatus,
      buildComplete: complete,
      sourceVersion: b.sourceVersion,
      resolvedSourceVersion: b.step > 4 ? 'f00dfeed1234567890abcdef1234567890abcdef' : undefined,
      environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_SMALL', environmentVariables: b.env },
      phases,
      // CodeBuild only knows the log stream once the build container is provisioned.
      ...(b.step > 3
        ? {
            logs: {
              groupName: `/aws/codebuild/${b.project}`,
              streamName: logStream,
              deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${TEST_REGION}#logEvent:group=/aws/codebuild/${b.project};stream=${logStream}`,
            },
          }
        : {}),
      initiator: 'gamelayer-test',
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    rejected,
    get throttled() {
      return throttled;
    },
    project(name, script = {}) {
      projects.set(name, script);
    },
    build: (id) => builds.get(id),
    batch: (id) => batches.get(id),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (status >= 400) headers['x-amzn-errortype'] = String((body as { __type: string }).__type);
  res.writeHead(status, headers);
  res.end(text);
}
