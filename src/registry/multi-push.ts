// The blob half of a push to several registries at once (one repository per region, say): each target is asked
// which blobs it lacks, then every missing blob goes up once per target that lacks it, read from the store once
// for all of them (shared-read.ts), with each target's own number of parallel uploads. A blob's uploads start
// together (a job waits until each of its targets has a free slot; a later job never overtakes a waiting one on
// the same target), so they share one pass over the file. A target that fails (unreachable, refused credentials,
// an upload that gives up) is set aside with its error and gets nothing more; the others go on. Manifests are not
// this module's business: the caller puts them (pushImage finds the blobs there and sends only manifests), and
// only on targets that got every blob. With a stripe (the platform jobs of a batch graph, each pushing to every
// region) each target gets this host's stripe of the shared media blobs first, then, once the other hosts' stripes
// appeared there or the wait ran out, what is still missing, as a one-target push does (push.ts, BlobStripe).
import { GamelayerError } from '../errors.js';
import { layoutBlob, readLayoutImage } from '../oci/layout.js';
import { descriptorOf, missingBlobs, platformImages } from '../oci/model.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import type { Descriptor } from '../types.js';
import { awaitOthers, splitByStripe, type BlobStripe } from './push.js';
import { SharedBlobReads } from './shared-read.js';
import type { PushTarget } from './target.js';
import { mountPlan, uploadTryingMount } from './mount-sources.js';
import { uploadBlob, uploadOptions } from './upload.js';
import type { UploadSessions } from './upload-sessions.js';
import { chunkedAboveDefault } from './chunked-above.js';

export interface BlobTarget {
  /** `host/repo`, for messages and results. */
  name: string;
  /** The repository path on the target's registry. */
  repo: string;
  target: PushTarget;
  /** Parallel uploads to this target; default the target's own (ECR 3), else 4. */
  concurrency?: number;
  /** Repositories of the same registry to mount blobs from (a base image's). */
  mountFrom?: string[];
}

export interface BlobTargetResult {
  name: string;
  /** Blobs of the images (stored locally) this target was asked about. */
  total: number;
  skipped: number;
  uploaded: string[];
  mounted: string[];
  bytesSent: number;
  /** Why this target got no further: it must get no manifest. */
  error?: unknown;
}

export interface UploadToTargetsOptions {
  /** The local OCI layout. */
  layout: string;
  /** The images (tags or digests in the layout) whose blobs go up. */
  images: string[];
  targets: BlobTarget[];
  reporter?: Reporter;
  /** Blobs of at least this size go up in resumable chunks; default 1 GiB (or GAMELAYER_CHUNKED_UPLOAD_ABOVE). */
  chunkedAbove?: number;
  chunkSize?: number;
  /** Where chunked uploads keep their sessions across runs (see PushImageOptions.uploadSessions). */
  uploadSessions?: UploadSessions;
  /** How long uploads of one blob wait for each other before the read starts without the late ones. */
  joinWaitMs?: number;
  /** The media blobs this host shares with the hosts building the game's other platforms, and its part of them. */
  stripe?: BlobStripe;
  /** The caller's cancel: uploads in flight are cut, none starts after it, and every target stops (the error is thrown). */
  signal?: AbortSignal;
}

export interface UploadToTargetsResult {
  targets: BlobTargetResult[];
  /** Passes over each blob's file (1 per blob when every upload shared the read). */
  reads: Map<string, number>;
}

interface Job {
  blob: Descriptor;
  targets: number[];
}

export async function uploadBlobsToTargets(opts: UploadToTargetsOptions): Promise<UploadToTargetsResult> {
  const reporter = opts.reporter ?? silentReporter;
  const blobs = await localBlobs(opts.layout, opts.images);
  const results: BlobTargetResult[] = opts.targets.map((t) => ({ name: t.name, total: blobs.length, skipped: 0, uploaded: [], mounted: [], bytesSent: 0 }));
  const shared = new SharedBlobReads((d) => layoutBlob(opts.layout, d), { joinWaitMs: opts.joinWaitMs });

  // What each target lacks (and where it could mount it from); a target that cannot answer is out.
  const lacking = await Promise.all(
    opts.targets.map(async (t, i) => {
      try {
        await t.target.client.ping();
        const missing = blobs.length ? await t.target.availability.missing(t.repo, blobs.map((b) => b.digest), new Map(blobs.map((b) => [b.digest, b.size]))) : new Set<string>();
        const { sources: mounts, sure } = await mountPlan(t.target, t.repo, [...missing], t.mountFrom ?? []);
        results[i]!.skipped = blobs.length - missing.size;
        return { missing, mounts, sure };
      } catch (e) {
        results[i]!.error = e;
        return { missing: new Set<string>(), mounts: new Map<string, string>(), sure: false };
      }
    }),
  );
  const jobsOf = (list: Descriptor[], lacks: (i: number) => ReadonlySet<string>): Job[] => {
    const jobs: Job[] = [];
    for (const blob of list) {
      const targets = opts.targets.map((_, i) => i).filter((i) => lacks(i).has(blob.digest));
      if (!targets.length) continue;
      shared.expect(blob, targets.map((i) => opts.targets[i]!.name));
      jobs.push({ blob, targets });
    }
    return jobs;
  };
  // This host's stripe of the shared media blobs (and every other blob) first; the other hosts' stripes later.
  const [first, later] = splitByStripe(blobs, opts.stripe);
  const jobs = jobsOf(first, (i) => lacking[i]!.missing);

  // Every upload to every target is known now: the progress bar's total is set before the first one starts (the
  // other hosts' stripes counted too: what they do not send in time, this host does).
  reporter.pushPlanned?.(
    jobs.reduce((n, j) => n + j.blob.size * j.targets.length, 0) + later.reduce((n, b) => n + b.size * lacking.filter((l) => l.missing.has(b.digest)).length, 0),
  );
  const slots = opts.targets.map((t) => Math.max(1, t.concurrency ?? t.target.concurrency ?? 4));
  const chunkedAbove = opts.chunkedAbove ?? chunkedAboveDefault();

  const uploadOne = async (job: Job, i: number): Promise<void> => {
    const t = opts.targets[i]!;
    const r = results[i]!;
    const source = shared.sourceFor(job.blob, t.name);
    try {
      if (r.error) return; // set aside meanwhile: nothing more goes there
      const task = reporter.task(`blob ${job.blob.digest.slice(7, 19)} (${t.name})`, job.blob.size, 'bytes', { progressLines: true });
      const up = await uploadTryingMount(t.target, lacking[i]!.mounts.get(job.blob.digest), lacking[i]!.sure, (mountFrom, onMountAnswer) => {
        opts.signal?.throwIfAborted();
        const client = opts.signal ? t.target.client.cancellable(opts.signal) : t.target.client;
        return uploadBlob(client, t.repo, source, { mountFrom, onMountAnswer, ...uploadOptions(t.target, job.blob.size >= chunkedAbove, task, reporter, opts) });
      });
      task.done(up.outcome);
      r.bytesSent += up.bytesSent;
      (up.outcome === 'mounted' ? r.mounted : r.uploaded).push(job.blob.digest);
    } catch (e) {
      // A damaged store blob is the store's fault, not this target's: every target stops on it; so on a cancel.
      if ((e instanceof GamelayerError && e.code === 'store.blob-corrupt') || opts.signal?.aborted) throw e;
      r.error ??= e;
    } finally {
      source.release();
    }
  };

  // The scheduler: jobs in blob order; one starts when each of its live targets has a free slot.
  let corrupt: unknown;
  const runJobs = (jobs: Job[]) => new Promise<void>((done) => {
    const waiting = [...jobs];
    let running = 0;
    const pump = () => {
      const blocked = new Set<number>();
      for (let k = 0; k < waiting.length; k++) {
        const job = waiting[k]!;
        const live = job.targets.filter((i) => !results[i]!.error && corrupt === undefined);
        if (live.some((i) => blocked.has(i) || slots[i]! <= 0)) {
          for (const i of live) blocked.add(i);
          continue;
        }
        waiting.splice(k--, 1);
        // Targets set aside meanwhile will not read it: nobody waits for them.
        for (const i of job.targets) if (!live.includes(i)) shared.sourceFor(job.blob, opts.targets[i]!.name).release();
        if (!live.length) continue;
        for (const i of live) slots[i]!--;
        running++;
        void Promise.all(
          live.map((i) =>
            uploadOne(job, i)
              .catch((e: unknown) => void (corrupt ??= e))
              .finally(() => slots[i]!++),
          ),
        ).then(() => {
          running--;
          pump();
        });
      }
      // With nothing running every slot is free, so every job left has started: none waits.
      if (running === 0 && waiting.length === 0) done();
    };
    pump();
  });
  await runJobs(jobs);
  if (corrupt === undefined && later.length) {
    // Each live target: the other hosts' stripes it lacked, once they appeared there or the wait ran out.
    const left = await Promise.all(
      opts.targets.map(async (t, i) => {
        const wanted = later.filter((b) => lacking[i]!.missing.has(b.digest));
        if (results[i]!.error || !wanted.length) return new Set<string>();
        try {
          const still = await awaitOthers(wanted, opts.stripe!, (digests) => t.target.availability.missing(t.repo, digests), reporter);
          results[i]!.skipped += wanted.length - still.length;
          if (still.length) reporter.warn(`${t.name}: ${still.length} shared blobs did not appear within ${Math.round(opts.stripe!.waitMs / 1000)} s: sending them from this host`);
          return new Set(still.map((b) => b.digest));
        } catch (e) {
          results[i]!.error ??= e;
          return new Set<string>();
        }
      }),
    );
    await runJobs(jobsOf(later, (i) => left[i]!));
  }
  if (corrupt !== undefined) throw corrupt;
  return { targets: results, reads: shared.reads };
}

/** The blobs of the images that the layout holds, layers first (in image order), then configs, each once. */
async function localBlobs(layout: string, selectors: string[]): Promise<Descriptor[]> {
  const layers = new Map<string, Descriptor>();
  const configs = new Map<string, Descriptor>();
  for (const selector of selectors) {
    const image = await readLayoutImage(layout, selector, { allowMissing: true });
    // Blobs a partial layout lacks are left to each target's own push (which fetches them from their source).
    const absent = new Set(missingBlobs(image).map((b) => b.digest));
    for (const m of platformImages(image)) {
      for (const l of m.layers) if (!absent.has(l.digest) && !layers.has(l.digest)) layers.set(l.digest, descriptorOf(l));
      if (!absent.has(m.config.digest)) configs.set(m.config.digest, descriptorOf(m.config));
    }
  }
  return [...layers.values(), ...[...configs.values()].filter((c) => !layers.has(c.digest))];
}
