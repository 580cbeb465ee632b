// A setup file (vitest.config.ts): vitest runs it before every test file, in a shared worker too, so the afterAll it
// registers removes that file's temp folders (tmp.ts) once the file's own afterAll hooks have run.
import { afterAll } from 'vitest';
import { removeTempDirs } from './tmp.js';

afterAll(removeTempDirs);
