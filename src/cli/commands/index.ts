// Every CLI command registers itself here; one file per command.
import type { Command } from 'commander';
import { register as build } from './build.js';
import { register as codebuild } from './codebuild.js';
import { register as diff } from './diff.js';
import { register as dockerfile } from './dockerfile.js';
import { register as ecs } from './ecs.js';
import { register as gc } from './gc.js';
import { register as init } from './init.js';
import { register as inspect } from './inspect.js';
import { register as k8s } from './k8s.js';
import { register as mergeIndex } from './merge-index.js';
import { register as load } from './load.js';
import { register as ls } from './ls.js';
import { register as prune } from './prune.js';
import { register as push } from './push.js';
import { register as runLocal } from './run-local.js';
import { register as sbom } from './sbom.js';
import { register as scan } from './scan.js';
import { register as sign } from './sign.js';
import { register as verify } from './verify.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [init, scan, diff, build, push, k8s, ecs, dockerfile, load, runLocal, codebuild, ls, inspect, gc, prune, mergeIndex, sbom, sign, verify];
