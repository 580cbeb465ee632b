// `-q, --quiet`, set by main.ts before the command runs and read by its reporter (context.ts): a module of its own, so
// the CLI frame loads nothing of the commands' (start-up time, test/cli-startup.test.ts).
let quiet = false;

export function setQuiet(on: boolean): void {
  quiet = on;
}

export function isQuiet(): boolean {
  return quiet;
}
