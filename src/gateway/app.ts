import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { uWS, type TemplatedApp, type us_listen_socket } from './uws.js';

/** PEM files for HTTPS and wss:// on the HTTP port. */
export interface HttpTls {
  readonly certFile: string;
  readonly keyFile: string;
}

export type Compression = 'off' | 'shared' | 'dedicated';

/** Exports the binding has (the pinned build's and the official one's) that the pinned build's typings lack. */
const native = uWS as unknown as { readonly LIBUS_LISTEN_EXCLUSIVE_PORT: number; readonly DEDICATED_COMPRESSOR: number };

/**
 * The uWS app: SSLApp when TLS is configured. uWS reads the files itself and says little when
 * they are wrong, so they are read and checked here first, with errors that name the flag.
 */
export function createApp(tls: HttpTls | undefined): TemplatedApp {
  if (tls === undefined) return uWS.App();
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${flag}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const cert = read(tls.certFile, '--http-tls-cert');
  const key = read(tls.keyFile, '--http-tls-key');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`HTTP TLS: ${(err as Error).message} (check --http-tls-cert and --http-tls-key)`);
  }
  return uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile });
}

/**
 * uWS's compression option for the socket behaviour. Clients' own frames (acks) are tiny, but a
 * client that negotiated deflate may compress them, so a decompressor of the same kind comes along.
 */
export function compressionOption(mode: Compression): number {
  if (mode === 'shared') return uWS.SHARED_COMPRESSOR | uWS.SHARED_DECOMPRESSOR;
  if (mode === 'dedicated') return native.DEDICATED_COMPRESSOR | uWS.DEDICATED_DECOMPRESSOR;
  return uWS.DISABLED;
}

/** listen(host, port, options, cb): in the binding of the pinned build and of the official one, not in the pinned build's typings. */
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => TemplatedApp;

/**
 * Listens on host:port alone: without LIBUS_LISTEN_EXCLUSIVE_PORT, uWS shares a port another
 * process already listens on (SO_REUSEPORT), and a second node on a busy port would start and
 * get no traffic.
 */
export function listenExclusive(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  const listen = app.listen as unknown as ListenWithOptions;
  return new Promise((resolve, reject) =>
    listen.call(app, host, port, native.LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) =>
      socket
        ? resolve(socket)
        : reject(new Error(`cannot listen for HTTP on ${host}:${port}: the port is in use (or ${host} is not an address of this machine)`)),
    ),
  );
}
