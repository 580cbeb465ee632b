/** `host/path` compared without a scheme and with Docker Hub's implied names. */
export function sameRepository(a: string, b: string): boolean {
  const norm = (r: string) => r.replace(/^[a-z]+:\/\//, '').replace(/^(index\.)?docker\.io\//, 'docker.io/');
  return norm(a) === norm(b);
}
