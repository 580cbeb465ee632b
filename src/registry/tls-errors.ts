// What a TLS failure with a registry means and what to do about it. The scheme and the trust are separate problems:
// --insecure (plain HTTP off this machine) fixes neither an untrusted certificate nor a wrong scheme on loopback.
import { GamelayerError } from '../errors.js';
import { isLoopbackHost } from './reference.js';

/** Node's codes for a certificate it does not accept (chain, issuer, self-signed, expiry, host name). */
const CERT_CODE = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME/i;

/** A TLS handshake that failed: `code` is the transport's (EPROTO when the port answers without TLS). */
export function tlsFailure(host: string, code: string, what: string, cause: unknown): GamelayerError {
  const message = `${what}: TLS with ${host} failed (${code})`;
  if (CERT_CODE.test(code)) {
    return new GamelayerError(
      'registry.tls',
      message,
      `${host}'s certificate is not trusted here: give Node the CA that signed it with NODE_EXTRA_CA_CERTS=/path/ca.pem ` +
        `(for Docker's copy: /etc/docker/certs.d/${host}/ca.crt), or check that the certificate names ${host} and has not expired`,
      { cause },
    );
  }
  const hint = isLoopbackHost(host)
    ? `${host} answers in plain HTTP on this port: drop https:// (loopback hosts are spoken to in plain HTTP)`
    : `${host} may answer in plain HTTP on this port: a plain-HTTP registry needs http://${host}/… and --insecure`;
  return new GamelayerError('registry.tls', message, hint, { cause });
}

/** The answer of a TLS port spoken to in plain HTTP: Go's net/http (distribution) and nginx, word for word. */
const HTTPS_PORT_ANSWER = /HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i;

/** The registry's 400 says it speaks HTTPS on this port, where we spoke plain HTTP (loopback's default). */
export function plainToHttpsPort(host: string, status: number, body: string, what: string): { message: string; hint: string } | undefined {
  if (status !== 400 || !HTTPS_PORT_ANSWER.test(body)) return undefined;
  return {
    message: `${what}: ${host} speaks HTTPS, but was spoken to in plain HTTP${isLoopbackHost(host) ? ' (the default for loopback hosts)' : ''}`,
    hint: `write the reference as https://${host}/… (a self-signed certificate also needs NODE_EXTRA_CA_CERTS=/path/ca.pem)`,
  };
}
