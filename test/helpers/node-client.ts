import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { CLIENT_BUILD_DIR } from '../../src/paths.js';
import { Signal } from './wait.js';

// The bundled ES module (dist/client/channeld.mjs, `npm run build:client`) run under Node with the
// `ws` package as its WebSocket: the shipped client code, without a browser. Typed here by hand,
// because src/client is compiled for the DOM and the tests are not.

export interface ClientEvent {
  readonly type: 'open' | 'message' | 'notrecovered' | 'reconnecting' | 'error' | 'close';
  readonly data?: string;
  readonly seq?: number;
  readonly topic?: string;
  readonly code?: number;
  readonly description?: string;
  readonly reason?: string;
}

interface ChannelSocketLike {
  on(type: ClientEvent['type'], listener: (event: Record<string, unknown>) => void): () => void;
  close(): void;
}

interface ClientModule {
  ChannelSocket: new (token: string, options: Record<string, unknown>) => ChannelSocketLike;
}

let loaded: Promise<ClientModule> | undefined;

function clientModule(): Promise<ClientModule> {
  loaded ??= import(pathToFileURL(join(CLIENT_BUILD_DIR, 'channeld.mjs')).href).then((m: unknown) => m as ClientModule);
  return loaded;
}

/** One ChannelSocket of the bundled client; records every event it emits, in order. */
export class NodeClient {
  readonly events: ClientEvent[] = [];
  private readonly signal = new Signal();

  private constructor(private readonly socket: ChannelSocketLike) {
    for (const type of ['open', 'message', 'notrecovered', 'reconnecting', 'error', 'close'] as const) {
      socket.on(type, (event) => {
        this.events.push({ type, ...event });
        this.signal.notify();
      });
    }
  }

  /** `options`: more ChannelSocket options (e.g. `transport`, `ackIntervalMs`). */
  static async open(token: string, baseUrl: string, options: Record<string, unknown> = {}): Promise<NodeClient> {
    const { ChannelSocket } = await clientModule();
    return new NodeClient(new ChannelSocket(token, { baseUrl, webSocket: WebSocket, backoff: { baseDelayMs: 10, maxDelayMs: 50 }, ...options }));
  }

  has(type: ClientEvent['type']): boolean {
    return this.events.some((e) => e.type === type);
  }

  until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return this.signal.until(predicate, what, () => `events: ${JSON.stringify(this.events).slice(0, 400)}`, timeoutMs);
  }

  close(): void {
    this.socket.close();
  }
}
