// The names the Kubernetes API server checks and refuses the whole object for: label keys and values, DNS subdomains
// (service accounts, priority classes), env names. Checked where a spec is written (k8s flags) and where the config
// is read (deploy: section), so a spec the cluster would refuse is found by the run that wrote it.

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label name or value (Kubernetes' qualified-name part). */
const LABEL_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export const SUBDOMAIN_EXPECTED = 'a DNS subdomain: lower-case letters, digits, "-" and ".", at most 253 characters';
export const LABEL_KEY_EXPECTED = 'a label key: [PREFIX/]NAME, NAME at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit, PREFIX a DNS subdomain';
export const LABEL_VALUE_EXPECTED = 'a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)';
export const ENV_NAME_EXPECTED = 'a variable name of printable ASCII characters (U+0020 to U+007E) without "="';

export const isDnsSubdomain = (v: string): boolean => v.length <= 253 && DNS_SUBDOMAIN.test(v);

/** `[prefix/]name` as the API server checks a label key. */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const name = slash < 0 ? k : k.slice(slash + 1);
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  return name.length <= 63 && LABEL_PART.test(name) && (prefix === undefined || isDnsSubdomain(prefix));
}

export const isLabelValue = (v: string): boolean => v === '' || (v.length <= 63 && LABEL_PART.test(v));

/** Kubernetes' rule for env names (1.30 on): printable ASCII, no "=". */
export const isEnvName = (v: string): boolean => /^[\x20-\x7e]+$/.test(v) && !v.includes('=');
