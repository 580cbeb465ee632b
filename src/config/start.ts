// The engine's start command as an argv, the one rule every output follows: `start: "./server -port 7777"` (one
// string with blanks) runs through sh, like Docker's shell form; a list, or a string without blanks, is the argv.
// The image's entrypoint and the emitted Dockerfile took such a string as one program name (a file called
// "./server -port 7777"), while k8s, ECS and run-local ran it through sh: `docker run` of the image failed.

export function startArgv(start: readonly string[]): string[] {
  if (start.length === 1 && /\s/.test(start[0]!)) return ['sh', '-c', start[0]!];
  return [...start];
}
