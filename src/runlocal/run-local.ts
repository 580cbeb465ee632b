// `gamelayer run-local`: the pod `gamelayer k8s` would emit for the last build, run on the local Docker engine.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type Docker from 'dockerode';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { connectDocker } from '../docker/daemon.js';
import { deployInputFrom, readBuildRecord } from '../k8s/input.js';
import { lastBuildToRead } from '../state/records.js';
import { k8sOptionsFromConfig, mergeK8sOptions, type K8sOptions } from '../k8s/options.js';
import { isRecordReference } from '../k8s/record-source.js';
import { resourceName } from '../k8s/pod.js';
import { k8sWorkload } from '../k8s/workloads.js';
import { namedRecordError } from '../state/named-record.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { checkPublish, executePlan, type ExecuteResult } from './execute.js';
import { ensureTreeImages } from './images.js';
import type { LogSink } from './logs.js';
import { podSpecOf, runPlan, type RunPlan } from './plan.js';
import { RunStop, stopError } from './stop.js';

export interface RunLocalOptions {
  config: GameConfig;
  /** Build record to run (default: the last build, `.gamelayer/records/build-last.json`). */
  recordFile?: string;
  /** The k8s knobs that shape the pod: kind, volumes, runAsUser, runAsGroup, copyRoot, resources, port. */
  k8s?: Partial<K8sOptions>;
  /** `K=V` for the engine container. */
  env?: string[];
  /** Replaces the engine's start command (the sentinel guard still runs first). */
  args?: string[];
  /** Deadline from the first container on; the run is stopped and fails with run.timeout. */
  timeoutMs?: number;
  keep?: boolean;
  publishPort?: number;
  /** The engine's Docker network (default: Docker's default bridge); `none` runs it without one. */
  network?: string;
  /** Abort to stop and clean up (reason: the signal's name); the run then fails with run.interrupted. */
  signal?: AbortSignal;
  /** Abort after `signal` (a second Ctrl-C): the running container is killed rather than given its grace. */
  hurry?: AbortSignal;
  docker?: Docker;
  reporter?: Reporter;
  /**
   * Where container output goes, a line at a time. Default: nowhere (a library prints nothing; the last lines of a
   * failed container are in its error all the same). `prefixedLogSink()` writes `[name] line` to this process's
   * stdout / stderr, as `gamelayer run-local` does.
   */
  logs?: LogSink;
  /** Called with the plan before anything runs (the CLI prints the run id from it). */
  onPlan?(plan: RunPlan, runId: string): void;
}

export interface RunLocalResult extends ExecuteResult {
  plan: RunPlan;
  /** Tree images that had to be loaded into the daemon. */
  imagesLoaded: number;
}

/** Without a registry in the config, the pod's image references need some repository; they only key the images. */
export function localRepository(config: GameConfig): string {
  return config.registry ?? `localhost/${config.game}`;
}

export async function runLocal(opts: RunLocalOptions): Promise<RunLocalResult> {
  const { config } = opts;
  const reporter = opts.reporter ?? silentReporter;
  checkPublish(opts.publishPort, opts.network);
  // k8s, ecs and imagedefinitions take a pushed build (--record HOST/REPO:TAG); run-local loads its images from the
  // local store, so such a reference was read as a path: "<cwd>/HOST/REPO:TAG: no such record".
  if (opts.recordFile !== undefined && isRecordReference(opts.recordFile)) {
    throw new GamelayerError(
      'run.option',
      `--record ${opts.recordFile}: a pushed build; run-local runs a build of this host, its images loaded from the local store (${config.store}), never pulled`,
      'pass a record file of a build made here (.gamelayer/records/build-<tag>.json), or build that commit here (the same trees give the same images); gamelayer k8s --record REF writes the spec of a pushed build',
    );
  }
  const recordFile = opts.recordFile ? path.resolve(opts.recordFile) : await lastBuildToRead(config);
  const record = await readBuildRecord(recordFile).catch((e: unknown) => {
    throw opts.recordFile === undefined ? e : namedRecordError(e, recordFile, '--record takes a build record (.gamelayer/records/build-<tag>.json)');
  });
  const input = deployInputFrom(config, record, localRepository(config), recordFile);
  // The pod gamelayer k8s would emit: the config's deploy section, then the caller's options over it.
  const fromConfig = k8sOptionsFromConfig(config.deploy);
  // Docker has no downward API: env entries of the deploy section that need the cluster (valueFrom) are left out.
  const clusterOnly = (fromConfig.env ?? []).filter((e) => e.valueFrom);
  if (clusterOnly.length > 0) {
    fromConfig.env = fromConfig.env!.filter((e) => !e.valueFrom);
    reporter.info(`deploy.env: ${clusterOnly.map((e) => e.name).join(', ')} use valueFrom, which only a cluster resolves: left out here`);
  }
  const emission = k8sWorkload(input, mergeK8sOptions(fromConfig, opts.k8s ?? {}));
  // The server image runs its start command directly; only copies and the tree guard need a shell.
  if (input.baseImage === 'scratch' && emission.options.volumes !== 'none') {
    throw new GamelayerError(
      'run.scratch',
      `${config.file}: baseImage: scratch has no sh or cp, so the copy containers and the start guard cannot run`,
      'set baseImage to an image with a POSIX shell, cp and chmod (busybox, debian-slim, ...) and build again',
    );
  }
  for (const n of emission.notes) reporter.info(n);
  const docker = opts.docker ?? connectDocker();

  // Loading may stream gigabytes: a Ctrl-C must not wait for it (nothing is created yet; images stay anyway).
  const early = new RunStop(opts.signal);
  let images: Awaited<ReturnType<typeof ensureTreeImages>>;
  try {
    const podSpec = podSpecOf(emission);
    const podImages = [
      ...[...(podSpec.initContainers ?? []), ...podSpec.containers].map((c) => c.image ?? ''),
      ...(podSpec.volumes ?? []).map((v) => v.image?.reference ?? '').filter((r) => r !== ''),
    ];
    const loading = ensureTreeImages({ config, input, docker, reporter, podImages });
    loading.catch(() => {});
    images = await Promise.race([
      loading,
      early.stopped.then((r) => {
        throw stopError(r, 'while loading images into the Docker daemon');
      }),
    ]);
  } finally {
    early.dispose();
  }

  const podName = resourceName(input, emission.options);
  const runId = `${podName}-${randomBytes(3).toString('hex')}`;
  const plan = runPlan(emission, podName, {
    resolveImage: (ref) => {
      const id = images.ids.get(ref);
      if (!id) throw new GamelayerError('run.image', `the pod names image ${ref}, which is not an image of build ${input.tag}`);
      return id;
    },
    env: opts.env,
    args: opts.args,
  });
  for (const n of plan.notes) reporter.info(n);
  opts.onPlan?.(plan, runId);
  const result = await executePlan({
    docker,
    plan,
    runId,
    game: config.game,
    configFile: config.file,
    logs: opts.logs ?? (() => {}),
    reporter,
    keep: opts.keep,
    signal: opts.signal,
    hurry: opts.hurry,
    timeoutMs: opts.timeoutMs,
    publishPort: opts.publishPort,
    network: opts.network,
  });
  return { ...result, plan, imagesLoaded: images.loaded };
}
