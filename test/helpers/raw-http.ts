import { connect } from 'node:net';

export interface RawResponse {
  /** Everything the server sent before it closed (or before `waitMs` ran out). */
  readonly text: string;
  /** The status code of the first response, if any came. */
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** How long until the first byte came (or the wait ran out). */
  readonly firstByteMs: number;
}

/**
 * Sends `request` byte for byte over a fresh TCP connection, as a load balancer would (HTTP/1.0,
 * odd header counts), and collects the answer until the server closes or `waitMs` passes.
 */
export function rawRequest(port: number, request: string, waitMs = 5000, host = '127.0.0.1'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const started = performance.now();
    let firstByteMs: number | undefined;
    let text = '';
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1];
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ text, status: status === undefined ? undefined : Number(status), headers, body: rest.join('\r\n\r\n'), firstByteMs: firstByteMs ?? performance.now() - started });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (text === '') reject(err);
      else finish();
    });
    // A HEAD answer is complete at the end of its headers; the server may keep the connection.
    const head = request.startsWith('HEAD ');
    socket.on('data', (chunk) => {
      firstByteMs ??= performance.now() - started;
      text += chunk.toString('latin1');
      if (head && text.includes('\r\n\r\n')) finish();
    });
    socket.on('end', finish);
    socket.write(request);
  });
}

/** A GET with `total` header lines in all (Host and Connection: close among them). */
export function getWithHeaders(path: string, total: number, version = '1.1'): string {
  const lines = [`GET ${path} HTTP/${version}`, 'Host: probe.test', 'Connection: close'];
  for (let i = 2; i < total; i++) lines.push(`X-Probe-${i}: ${i}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
