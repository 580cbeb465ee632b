// An error message echoes what it was given: a path, a registry's failure reason, an index's platform. On the terminal
// an escape sequence in it would act (colours, a forged line, a retitled window); it is printed escaped instead, and
// tabs and newlines stay as they are. The JSON form keeps the string (JSON escapes it).
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { visibleControls } from '../src/report/printable.js';

describe('control characters in error messages', () => {
  it('the CLI prints an escape sequence in a message as \\u001b, not as the byte', async () => {
    const config = '/nonexistent-gamelayer/red\u001b[31m\u0007.yaml';
    const r = await runCli(['-c', config, 'build']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[config.missing]');
    expect(r.stderr).not.toMatch(/[\u001b\u0007]/);
    expect(r.stderr).toContain('red\\u001b[31m\\u0007.yaml');
    const j = await runCli(['-c', config, 'build', '--json']);
    expect((JSON.parse(j.stdout) as { error: { message: string } }).error.message).toContain('red\u001b[31m\u0007.yaml');
  });

  it('keeps tabs and newlines, escapes C0 and C1 controls and DEL', () => {
    expect(visibleControls('a\tb\nc')).toBe('a\tb\nc');
    expect(visibleControls('\u0000\r\u001b\u007f\u009b')).toBe('\\u0000\\u000d\\u001b\\u007f\\u009b');
  });
});
