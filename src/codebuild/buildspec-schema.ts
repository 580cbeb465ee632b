// The shape of an AWS CodeBuild buildspec, version 0.2: the subset gamelayer writes and checks. Strict, so a
// misspelt key (`post-build`, `artifact`) is an error here rather than a phase CodeBuild silently ignores.
import { parse } from 'yaml';
import { z } from 'zod';
import { GamelayerError } from '../errors.js';
import { batchSchema } from './batch-schema.js';

const commands = z.array(z.string().min(1)).min(1);
const onFailure = z.enum(['ABORT', 'CONTINUE']);

const phase = z.strictObject({
  'run-as': z.string().min(1).optional(),
  'on-failure': onFailure.optional(),
  commands,
  finally: commands.optional(),
});

const installPhase = phase.extend({
  'runtime-versions': z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

export const buildspecSchema = z.strictObject({
  version: z.literal(0.2),
  'run-as': z.string().min(1).optional(),
  batch: batchSchema.optional(),
  env: z
    .strictObject({
      shell: z.enum(['bash', '/bin/sh', 'sh']).optional(),
      variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
      'parameter-store': z.record(z.string(), z.string()).optional(),
      'secrets-manager': z.record(z.string(), z.string()).optional(),
      'exported-variables': z.array(z.string()).optional(),
      'git-credential-helper': z.enum(['yes', 'no']).optional(),
    })
    .optional(),
  proxy: z.strictObject({ 'upload-artifacts': z.enum(['yes', 'no']).optional(), logs: z.enum(['yes', 'no']).optional() }).optional(),
  phases: z
    .strictObject({
      install: installPhase.optional(),
      pre_build: phase.optional(),
      build: phase.optional(),
      post_build: phase.optional(),
    })
    .refine((p) => Object.keys(p).length > 0, { message: 'expected at least one phase' }),
  reports: z.record(z.string(), z.unknown()).optional(),
  artifacts: z
    .strictObject({
      files: z.array(z.string().min(1)).min(1),
      name: z.string().optional(),
      'discard-paths': z.enum(['yes', 'no']).optional(),
      'base-directory': z.string().optional(),
      'exclude-paths': z.array(z.string()).optional(),
      'enable-symlinks': z.enum(['yes', 'no']).optional(),
    })
    .optional(),
  cache: z.strictObject({ paths: z.array(z.string().min(1)).min(1) }).optional(),
});

export type Buildspec = z.infer<typeof buildspecSchema>;
export const PHASE_NAMES = ['install', 'pre_build', 'build', 'post_build'] as const;

/** Parses and checks buildspec text; errors name the file and the field. */
export function parseBuildspec(text: string, file: string): Buildspec {
  let value: unknown;
  try {
    value = parse(text, { uniqueKeys: true });
  } catch (e) {
    throw new GamelayerError('buildspec.yaml', `${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const result = buildspecSchema.safeParse(value);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${file}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new GamelayerError('buildspec.invalid', lines.join('\n'));
  }
  return result.data;
}
