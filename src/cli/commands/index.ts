// Every CLI command registers itself here; one file per command.
import type { Command } from 'commander';
import { register as ecs } from './ecs.js';
import { register as k8s } from './k8s.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [k8s, ecs];
