// The token scopes a repository is asked with (distribution's token protocol). Their own module, with no imports,
// so that the fast path of a no-op (cli/fast-noop/registry-check.ts) asks for the scope the full path asks for
// without bundling auth.ts and its transport.

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
