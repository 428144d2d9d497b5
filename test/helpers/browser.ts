import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Whether browser tests can run. Without Chromium they fail under CI=true (a CI image that lost
 * its browser must not go green) and are skipped, loudly, on a developer machine.
 */
export function chromiumAvailability(): { run: true } | { run: false; fail: boolean; why: string } {
  if (existsSync(CHROMIUM_PATH)) return { run: true };
  const why = `Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH, or apt-get install chromium)`;
  return { run: false, fail: process.env['CI'] === 'true', why };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export interface PageServer {
  /** Registers a page and returns its URL (on this server's origin, not channeld's). */
  add(html: string): string;
  close(): Promise<void>;
}

/** Serves test pages from an origin of their own, as an application's site would. */
export async function startPageServer(): Promise<PageServer> {
  const pages = new Map<string, string>();
  const server = createHttpServer((req, res) => {
    const html = pages.get(req.url ?? '');
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  const port = await listen(server);
  return {
    add(html) {
      const path = `/page-${pages.size + 1}.html`;
      pages.set(path, html);
      return `http://127.0.0.1:${port}${path}`;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Cuts every open connection abruptly, like a network loss (the browser sees 1006). */
  dropAll(): void;
  /** While refusing, new connections are cut as soon as they arrive. */
  refuse(on: boolean): void;
  /**
   * While stalling, new connections are accepted and then left hanging, forwarded nowhere, as when
   * packets are dropped on the way; they stay so until `dropAll()` or `close()`.
   */
  stall(on: boolean): void;
  close(): Promise<void>;
}

/** A TCP forwarder to 127.0.0.1:targetPort, so a test can take the network away. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let connections = 0;
  let refusing = false;
  let stalling = false;
  const server = createTcpServer((client) => {
    connections += 1;
    if (refusing) {
      client.destroy();
      return;
    }
    if (stalling) {
      open.add(client);
      client.on('error', () => open.delete(client)).on('close', () => open.delete(client));
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    open.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const port = await listen(server);
  return {
    port,
    get connections() {
      return connections;
    },
    dropAll() {
      // resetAndDestroy sends RST, so neither side gets to say goodbye.
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    refuse(on) {
      refusing = on;
    },
    stall(on) {
      stalling = on;
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
