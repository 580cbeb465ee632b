// Every CLI command registers itself here; one file per command.
import type { Command } from 'commander';
import { register as push } from './push.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [push];
