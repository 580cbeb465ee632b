// gamelayer k8s: the last build as a Pod, Deployment, Agones GameServer or Fleet, images pinned by digest.
import type { Command } from 'commander';
import path from 'node:path';
import { writableRootNotice } from '../../config/deploy.js';
import { GamelayerError } from '../../errors.js';
import { utf8Text } from '../../util/utf8-text.js';
import { refuseForeignFile } from '../../util/generated-file.js';
import { fifoWaitNotice, readBounded, readFileBounded } from '../../util/read-bounded.js';
import { digestsIn, fillManifests, kustomizeImages, pinnedImages } from '../../k8s/fill.js';
import { knownImages } from '../../k8s/fill-known.js';
import { refuseFillClashes, refuseFillOverOwnFiles, refuseSpecOverFillOutput, fillOutputName } from '../../k8s/fill-clash.js';
import { withFillMark } from '../../k8s/fill-mark.js';
import { writeInPlace } from '../../k8s/fill-in-place.js';
import { loadDeployInput, requirePushed, type DeployInput } from '../../k8s/input.js';
import { pushedByOthers, pushedByOthersNote } from '../../k8s/pushed-by-others.js';
import { integerOption, k8sOptions, k8sOptionsFromConfig, keyValueOptions, mergeK8sOptions, portOption, sizeOption, type K8sOptions } from '../../k8s/options.js';
import { k8sYaml, writeOutput } from '../../k8s/output.js';
import { emittedImages, k8sFileName, k8sWorkload } from '../../k8s/workloads.js';
import { recordOfTagOrFile } from '../build-choice.js';
import { commandConfig, commandReporter, printJson, refuseOutInTrees } from '../context.js';

interface K8sFlags {
  kind: string;
  force?: boolean;
  volumes?: string;
  out?: string;
  repository?: string;
  region?: string;
  registry?: string;
  record?: string;
  tag?: string;
  name?: string;
  namespace?: string;
  replicas?: string;
  pullPolicy?: string;
  port?: string;
  portPolicy?: string;
  hostPort?: string;
  health: boolean;
  cpu?: string;
  cpuLimit?: string;
  memory?: string;
  copyCpu?: string;
  copyMemory?: string;
  scratch?: string;
  uid?: string;
  gid?: string;
  copyRoot?: string;
  nodeSelector: string[];
  priorityClass?: string;
  serviceAccount?: string;
  gracePeriod?: string;
  env: string[];
  refs?: string;
  fill?: string[];
  inPlace?: boolean;
  kustomizeImages?: boolean;
  local?: boolean;
  json?: boolean;
}

/** What `k8s --json` prints (docs/json.md): the files written, the images the output pins, else the text it prints. */
interface K8sJson {
  record: string;
  files: string[];
  removed: string[];
  images: ReturnType<typeof pinnedImages>;
  spec?: string;
}

const repeat = (v: string, all: string[]) => [...all, v];

export function register(program: Command): void {
  program
    .command('k8s')
    .description('write a Kubernetes / Agones spec for the last build (images pinned by digest)')
    .option('--kind <kind>', 'pod, deployment, gameserver (Agones) or fleet (Agones)', 'pod')
    .option('--volumes <mode>', 'none: the server image as the one container; init: init containers copy the trees; image: Kubernetes image volumes (default: per kind, init for a build with a chunked tree; see docs/deploy.md)')
    .option('--out <dir>', 'write <kind>.yaml into DIR instead of printing it (<kind>-server-image.yaml with --volumes none, <kind>-image-volumes.yaml with --volumes image)')
    .option('--repository <repo>', 'repository the images were pushed to (default: registry in gamelayer.yaml, else the one the build was pushed to)')
    .option('--region <region>', 'pin the images to their copy in this AWS region (a push or ECR replication there; same digests, that registry\'s host)')
    .option('--registry <host>', 'pin the images to their copy on this registry host (same digests)')
    .option('--record <file|ref>', 'build record to deploy: a file (default: .gamelayer/records/build-last.json), or a pushed build host/repo:tag (read from the registry: a rollback from a fresh host)')
    .option('-t, --tag <tag>', 'the local build to deploy, by its tag (default: the last build)')
    .option('--name <name>', 'metadata.name (default: the game name)')
    .option('--namespace <ns>', 'metadata.namespace')
    .option('--replicas <n>', 'replicas of a deployment or fleet')
    .option('--refs <style>', 'digest: images as repo@sha256:… (a new tag of the same content changes no pod template); tag: repo:tag-tree@sha256:…', 'digest')
    .option('--pull-policy <policy>', 'Always, IfNotPresent or Never (default: Always; a digest check per start, only missing layers pulled)')
    .option('--port <port>', 'game port as PORT[/udp|/tcp] (default: 7777/udp)')
    .option('--port-policy <policy>', 'Agones: Dynamic, Static, Passthrough or None (default: Dynamic)')
    .option('--host-port <port>', 'host port: Agones with --port-policy Static; a pod or deployment: the node port of its container port')
    .option('--no-health', 'Agones: turn health checking off (the game does not call the SDK)')
    .option('--cpu <q>', 'engine CPU request (default: 1)')
    .option('--cpu-limit <q>', 'engine CPU limit (default: none)')
    .option('--memory <q>', 'engine memory request and limit (default: 2Gi)')
    .option('--copy-cpu <q>', 'copy container CPU request (default: 250m)')
    .option('--copy-memory <q>', 'copy container memory request and limit (default: 128Mi)')
    .option('--scratch <size>', 'writable space for the engine beside the trees (default: 1GiB)')
    .option('--uid <uid>', 'user id of every container; 0 runs as root (default: 1000)')
    .option('--gid <gid>', 'group id and fsGroup (default: 1000)')
    .option('--copy-root <dir>', 'where copy containers mount their target (default: /mnt)')
    .option('--node-selector <k=v>', 'nodeSelector entry (repeatable; over deploy.nodeSelector)', repeat, [] as string[])
    .option('--priority-class <name>', 'priorityClassName')
    .option('--service-account <name>', 'serviceAccountName')
    .option('--grace-period <s>', 'terminationGracePeriodSeconds')
    .option('-e, --env <K=V>', 'environment variable of the engine container (repeatable; over deploy.env)', repeat, [] as string[])
    .option('--fill <files...>', "rewrite the image references of your own manifests (gamelayer://server, gamelayer://<tree>, or the repository's images) to this build's; - reads stdin; prints them, or writes into --out DIR, or --in-place")
    .option('--in-place', 'with --fill: rewrite the files themselves')
    .option('--kustomize-images', "print a kustomization's images: block for this build (base manifests name gamelayer/server, gamelayer/<tree>); with --out DIR, DIR/kustomization.yaml as a kustomize Component (a folder of its own)")
    .option('--local', 'skip the check that the images were pushed to the repository (kind, minikube, run-local)')
    .option('--force', 'with --out: replace a spec file gamelayer did not write (a pod.yaml of your own), or wrote for another object (--name); mix specs and the kustomize Component in one folder; --fill over a spec k8s wrote or a file a fill did not write')
    .option('--json', 'print the files written and the images pinned (name, reference, digest) as JSON on stdout; without --out, the spec as a string in it')
    .action(async (flags: K8sFlags, cmd: Command) => {
      const config = await commandConfig(cmd);
      await refuseOutInTrees(config, flags.out, '--out');
      const reporter = commandReporter(Boolean(flags.json));
      // The flags first: a mistyped --kind or --volumes was reported only once the registry and record were right.
      const options = flags.fill || flags.kustomizeImages ? undefined : mergeK8sOptions(k8sOptionsFromConfig(config.deploy), k8sFlagsToOptions(flags));
      if (options) k8sOptions(options); // checked now; the workload merges them again with the build's defaults
      const { input, record, recordFile } = await loadDeployInput(config, { recordFile: await recordOfTagOrFile(config, flags, 'deploy.option', 'deploy'), repository: flags.repository, region: flags.region, registry: flags.registry });
      const others = flags.local ? new Map<string, string>() : await pushedByOthers(config.stateDir, record, input, recordFile);
      const pushed = (names: string[]) => {
        if (flags.local) return;
        const note = pushedByOthersNote(input, requirePushed(record, input, names, recordFile, others));
        if (note) reporter.info(`note: ${note}`);
      };
      const result: K8sJson = { record: recordFile, files: [], removed: [], images: [] };
      // Without --json: each file said as written, the text printed; with it, both in the one document at the end.
      const wrote = (file: string) => (flags.json ? void result.files.push(file) : reporter.info(`wrote ${file}`));
      const print = (text: string) => (flags.json ? void (result.spec = (result.spec ?? '') + text) : void process.stdout.write(text));
      if (flags.fill || flags.kustomizeImages) {
        result.images = await fillCommand(input, flags, reporter, pushed, config.store, wrote, print);
        if (flags.json) printJson(result);
        return;
      }
      const emission = k8sWorkload(input, options!);
      pushed(emittedImages(emission));
      result.images = pinnedImages(input, emittedImages(emission), emission.options.refs);
      const text = k8sYaml(input, emission);
      for (const r of emission.requirements) reporter.info(`requires: ${r}`);
      for (const n of emission.notes) reporter.warn(n);
      const rootNotice = writableRootNotice(config.deploy);
      if (rootNotice) reporter.info(`note: ${rootNotice}`);
      if (flags.out) {
        await refuseSpecOverFillOutput(path.resolve(flags.out, k8sFileName(emission.options)), flags.force);
        await refuseForeignFile(path.resolve(flags.out, k8sFileName(emission.options)), flags.force);
        const { removeStaleVariants, refuseOtherObject } = await import('../../k8s/out-variants.js');
        await refuseOtherObject(path.resolve(flags.out, k8sFileName(emission.options)), emission.object, flags.force);
        const { refuseComponentBesideSpecs } = await import('../../k8s/kustomize-out.js');
        const oldBlock = await refuseComponentBesideSpecs(flags.out, flags.force);
        if (oldBlock) reporter.warn(oldBlock);
        wrote(await writeOutput(flags.out, k8sFileName(emission.options), text));
        for (const r of await removeStaleVariants(flags.out, emission.options, emission.object)) {
          result.removed.push(r.file);
          reporter.info(`removed ${r.file}: it defined the same ${emission.object.kind} ${emission.object.metadata?.name} (--volumes ${r.volumes}), and kubectl apply -f ${flags.out} would apply both`);
        }
      } else {
        print(text);
      }
      if (flags.json) printJson(result);
    });
}

async function fillCommand(
  input: DeployInput,
  flags: K8sFlags,
  reporter: ReturnType<typeof commandReporter>,
  pushed: (names: string[]) => void,
  storeDir: string,
  wrote: (file: string) => void,
  print: (text: string) => void,
): Promise<ReturnType<typeof pinnedImages>> {
  const refs = (flags.refs ?? 'digest') as K8sOptions['refs'];
  if (flags.kustomizeImages) {
    if (flags.fill) throw new GamelayerError('fill.usage', '--kustomize-images and --fill: run them one at a time');
    const all = ['server', ...input.trees.map((t) => t.tree)];
    pushed(all);
    if (!flags.out) {
      print(kustomizeImages(input));
      return pinnedImages(input, all);
    }
    const { KUSTOMIZATION_FILE, kustomizeComponent, refuseSpecsBesideComponent } = await import('../../k8s/kustomize-out.js');
    await refuseSpecsBesideComponent(flags.out, flags.force);
    await refuseSpecOverFillOutput(path.resolve(flags.out, KUSTOMIZATION_FILE), flags.force);
    await refuseForeignFile(path.resolve(flags.out, KUSTOMIZATION_FILE), flags.force);
    wrote(await writeOutput(flags.out, KUSTOMIZATION_FILE, kustomizeComponent(input)));
    return pinnedImages(input, all);
  }
  if (!flags.fill) return [];
  if (flags.inPlace && flags.out) throw new GamelayerError('fill.usage', '--fill: --in-place and --out exclude each other');
  refuseFillClashes(flags.fill, flags.out);
  if (flags.out) await refuseFillOverOwnFiles(flags.fill, flags.out, flags.force);
  // Read and rewrite every file first: a bad one stops the command before anything is written.
  const results: { file: string; text: string; count: number }[] = [];
  const used: string[] = [];
  for (const file of flags.fill) {
    const bytes = await readFillInput(file, (f) => reporter.warn(fifoWaitNotice('--fill', f)));
    const text = utf8Text(bytes, file === '-' ? '(stdin)' : file);
    // An earlier fill's digest-only references: which image each is, from the local store's copy of it.
    const names = new Set(['server', ...input.trees.map((t) => t.tree)]);
    const known = await knownImages(storeDir, digestsIn(text, input.repository), input.game, names);
    const r = fillManifests(text, file === '-' ? '(stdin)' : file, input, refs, known);
    // A reference already this build's (a fill run again) is said as such: `X -> X` read as a change.
    for (const x of r.replacements) reporter.info(`${file}:${x.line}:${x.col}: ${x.from === x.to ? `${x.from} (unchanged)` : `${x.from} -> ${x.to}`}`);
    if (r.replacements.length === 0) reporter.warn(`${file}: no image reference of ${input.game} found`);
    results.push({ file, text: r.text, count: r.replacements.length });
    pushed(r.replacements.map((x) => x.image));
    used.push(...r.replacements.map((x) => x.image));
  }
  for (const r of results) {
    if (flags.inPlace && r.file !== '-') {
      await writeInPlace(r.file, r.text);
      if (flags.json) wrote(path.resolve(r.file));
    } else if (flags.out) {
      const name = fillOutputName(r.file);
      wrote(await writeOutput(flags.out, name, withFillMark(r.text, name, input)));
    } else print(r.text);
  }
  return pinnedImages(input, used, refs);
}

/** The most a manifest given to --fill may hold: Helm output of a big chart is a few MiB. */
export const FILL_MAX_BYTES = 64 * 1024 * 1024;

async function readFillInput(file: string, onWait: (file: string) => void): Promise<Buffer> {
  const name = file === '-' ? '(stdin)' : file;
  const read = await (file === '-' ? readBounded(process.stdin, FILL_MAX_BYTES) : readFileBounded(file, FILL_MAX_BYTES, onWait)).catch((e: Error) => {
    throw new GamelayerError('fill.read', `${name}: cannot read: ${e.message}`);
  });
  if (!Buffer.isBuffer(read)) {
    throw new GamelayerError('fill.read', `${name}: more than ${FILL_MAX_BYTES} bytes, more than a manifest holds`, 'give --fill the Kubernetes manifests to fill (YAML files, or - for stdin)');
  }
  return read;
}

/** Flags that mean nothing for some kinds: the spec was written without them, and without a word. */
const KIND_ONLY_FLAGS: { flag: string; given: (f: K8sFlags) => boolean; kinds: string[]; why: string }[] = [
  { flag: '--replicas', given: (f) => f.replicas !== undefined, kinds: ['deployment', 'fleet'], why: 'a pod or GameServer is one server' },
  { flag: '--port-policy', given: (f) => f.portPolicy !== undefined, kinds: ['gameserver', 'fleet'], why: 'it is an Agones port setting' },
  { flag: '--no-health', given: (f) => f.health === false, kinds: ['gameserver', 'fleet'], why: 'it turns off Agones health checking' },
];

export function k8sFlagsToOptions(f: K8sFlags): Partial<K8sOptions> {
  for (const k of KIND_ONLY_FLAGS) {
    if (f.kind !== undefined && k.given(f) && !k.kinds.includes(f.kind)) {
      throw new GamelayerError('deploy.option', `${k.flag}: not for --kind ${f.kind}; ${k.why}`, `pass --kind ${k.kinds.join(' or --kind ')}, or leave ${k.flag} out`);
    }
  }
  const o: Partial<K8sOptions> = {
    kind: f.kind as K8sOptions['kind'],
    ...(f.volumes !== undefined ? { volumes: f.volumes as K8sOptions['volumes'] } : {}),
  };
  // Only --no-health says something; without it the config's (or the default) health settings stand.
  if (f.health === false) o.health = { disabled: true, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 };
  if (f.name !== undefined) o.name = f.name;
  if (f.namespace !== undefined) o.namespace = f.namespace;
  if (f.replicas !== undefined) o.replicas = integerOption('--replicas', f.replicas);
  if (f.refs !== undefined) o.refs = f.refs as K8sOptions['refs'];
  if (f.pullPolicy !== undefined) o.pullPolicy = f.pullPolicy as K8sOptions['pullPolicy'];
  if (f.port !== undefined) o.port = portOption('--port', f.port);
  if (f.portPolicy !== undefined) o.portPolicy = f.portPolicy as K8sOptions['portPolicy'];
  if (f.hostPort !== undefined) o.hostPort = integerOption('--host-port', f.hostPort);
  if (f.cpu !== undefined || f.memory !== undefined || f.cpuLimit !== undefined) {
    o.engine = { cpu: f.cpu ?? '1', memory: f.memory ?? '2Gi', ...(f.cpuLimit ? { cpuLimit: f.cpuLimit } : {}) };
  }
  if (f.copyCpu !== undefined || f.copyMemory !== undefined) {
    o.copy = { cpu: f.copyCpu ?? '250m', memory: f.copyMemory ?? '128Mi' };
  }
  if (f.scratch !== undefined) o.scratchBytes = sizeOption('--scratch', f.scratch);
  if (f.uid !== undefined) o.runAsUser = integerOption('--uid', f.uid);
  if (f.gid !== undefined) o.runAsGroup = integerOption('--gid', f.gid);
  if (f.copyRoot !== undefined) o.copyRoot = f.copyRoot;
  const scheduling: NonNullable<K8sOptions['scheduling']> = {};
  if ((f.nodeSelector ?? []).length > 0) scheduling.nodeSelector = Object.fromEntries(keyValueOptions('--node-selector', f.nodeSelector));
  if (f.priorityClass !== undefined) scheduling.priorityClassName = f.priorityClass;
  if (f.serviceAccount !== undefined) scheduling.serviceAccountName = f.serviceAccount;
  if (f.gracePeriod !== undefined) scheduling.terminationGracePeriodSeconds = integerOption('--grace-period', f.gracePeriod);
  if (Object.keys(scheduling).length > 0) o.scheduling = scheduling;
  if ((f.env ?? []).length > 0) o.env = keyValueOptions('--env', f.env).map(([name, value]) => ({ name, value }));
  return o;
}
