// The `batch:` section of a buildspec (CodeBuild batch builds), the build-graph form gamelayer writes: jobs with
// their own compute, depending on each other. Checked beyond its shape: identifiers unique, every `depend-on`
// names a job, no cycle, and an ARM container runs an aarch64 image (an x86 image there fails only at provisioning).
import { z } from 'zod';

const IDENTIFIER = /^[A-Za-z0-9_]{1,127}$/;
export const ENVIRONMENT_TYPES = ['LINUX_CONTAINER', 'ARM_CONTAINER', 'LINUX_GPU_CONTAINER', 'WINDOWS_SERVER_2019_CONTAINER', 'LINUX_LAMBDA_CONTAINER', 'ARM_LAMBDA_CONTAINER'] as const;
const ARM_COMPUTE = ['BUILD_GENERAL1_SMALL', 'BUILD_GENERAL1_MEDIUM', 'BUILD_GENERAL1_LARGE', 'BUILD_GENERAL1_XLARGE', 'BUILD_GENERAL1_2XLARGE'];

const job = z.strictObject({
  identifier: z.string().regex(IDENTIFIER, 'letters, digits and "_" only'),
  buildspec: z.string().min(1).optional(),
  env: z
    .strictObject({
      type: z.enum(ENVIRONMENT_TYPES).optional(),
      'compute-type': z.string().regex(/^BUILD_[A-Z0-9_]+$/).optional(),
      image: z.string().min(1).optional(),
      'privileged-mode': z.boolean().optional(),
      variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
    })
    .optional(),
  'depend-on': z.array(z.string().min(1)).optional(),
  'ignore-failure': z.boolean().optional(),
  'debug-session': z.boolean().optional(),
});

export const batchSchema = z
  .strictObject({
    'fast-fail': z.boolean().optional(),
    'combine-artifacts': z.boolean().optional(),
    'service-role': z.string().optional(),
    'build-graph': z.array(job).min(1),
  })
  .superRefine((batch, ctx) => {
    const graph = batch['build-graph'];
    const ids = new Map<string, number>();
    graph.forEach((j, i) => {
      if (ids.has(j.identifier)) ctx.addIssue({ code: 'custom', path: ['build-graph', i, 'identifier'], message: `${j.identifier} is also the identifier of job ${ids.get(j.identifier)}` });
      ids.set(j.identifier, i);
    });
    graph.forEach((j, i) => {
      for (const d of j['depend-on'] ?? []) {
        if (!ids.has(d)) ctx.addIssue({ code: 'custom', path: ['build-graph', i, 'depend-on'], message: `${d}: no job has this identifier` });
      }
      const env = j.env;
      if (env?.type === 'ARM_CONTAINER') {
        if (env['compute-type'] && !ARM_COMPUTE.includes(env['compute-type'])) {
          ctx.addIssue({ code: 'custom', path: ['build-graph', i, 'env', 'compute-type'], message: `${env['compute-type']} does not run ARM_CONTAINER (expected one of ${ARM_COMPUTE.join(', ')})` });
        }
        if (env.image && /x86_64|\/standard:/.test(env.image)) {
          ctx.addIssue({ code: 'custom', path: ['build-graph', i, 'env', 'image'], message: `${env.image} is an x86_64 image; ARM_CONTAINER needs an aarch64 one (aws/codebuild/amazonlinux2-aarch64-standard:3.0)` });
        }
      }
      if (env?.type === 'LINUX_CONTAINER' && env.image && /aarch64/.test(env.image)) {
        ctx.addIssue({ code: 'custom', path: ['build-graph', i, 'env', 'image'], message: `${env.image} is an aarch64 image; it runs on ARM_CONTAINER` });
      }
    });
    // A cycle never starts: every job in it waits for another.
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, trail: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') {
        ctx.addIssue({ code: 'custom', path: ['build-graph'], message: `depend-on cycle: ${[...trail.slice(trail.indexOf(id)), id].join(' → ')}` });
        return;
      }
      state.set(id, 'visiting');
      for (const d of graph[ids.get(id)!]!['depend-on'] ?? []) if (ids.has(d)) visit(d, [...trail, id]);
      state.set(id, 'done');
    };
    for (const j of graph) visit(j.identifier, []);
  });

export type BatchSection = z.infer<typeof batchSchema>;
