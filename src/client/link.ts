/** The subprotocol of docs/protocol.md, version 1. */
export const PROTOCOL = 'channeld.v1';
const TOKEN_PROTOCOL_PREFIX = 'token.';
/** WebSocket.OPEN, spelled out so an injected implementation need not carry the static. */
const OPEN = 1;

/** Anything constructible like the browser's WebSocket (e.g. the `ws` package under Node). */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocket;

/** What a link tells the transport; nothing more comes once it is released. */
export interface LinkEvents {
  /** The server accepted the link; its welcome frame comes next, and frames may be sent. */
  open(): void;
  frame(text: string): void;
  /** The server broke the protocol on the wire (a wrong subprotocol, a binary frame). */
  protocolError(): void;
  /** The link ended, with a close code of docs/protocol.md §4 (1006: lost without one). Once. */
  closed(code: number, reason: string): void;
}

/**
 * One connection to channeld, of whatever kind: a WebSocket, or the fallback transport's event
 * stream or long polls (docs/protocol.md §5). The transport above reconnects and resumes the same
 * way whichever kind carries the frames.
 */
export interface Link {
  /** Sends one frame; false when the link cannot send (not open yet, or ended). */
  send(text: string): boolean;
  /** Ends the link; `closed` follows, asynchronously, with this code (or the server's echo of it). */
  close(code: number, reason: string): void;
  /** Nothing more is reported from this link. */
  release(): void;
  /** A protocol frame came on it: the path works, so a later loss is a loss, not a block. */
  readonly gotFrame: boolean;
}

function ignoreError(): void {}

/** A link over a WebSocket, the token in its subprotocols (protocol §1). */
export class WebSocketLink implements Link {
  private readonly ws: WebSocket;
  gotFrame = false;

  constructor(url: string, token: string, Impl: WebSocketConstructor, events: LinkEvents) {
    const ws = new Impl(url, [PROTOCOL, TOKEN_PROTOCOL_PREFIX + token]);
    this.ws = ws;
    ws.onopen = () => {
      if (ws.protocol !== PROTOCOL) events.protocolError();
      else events.open();
    };
    ws.onmessage = (event: MessageEvent<unknown>) => {
      if (typeof event.data !== 'string') {
        events.protocolError();
        return;
      }
      this.gotFrame = true;
      events.frame(event.data);
    };
    ws.onclose = (event: CloseEvent) => events.closed(event.code, event.reason);
    // The close event that follows says all there is to say. Under Node the `ws` package throws an
    // error nobody listens for (and then never emits the close), so a listener must be there.
    ws.onerror = ignoreError;
  }

  send(text: string): boolean {
    if (this.ws.readyState !== OPEN) return false;
    this.ws.send(text);
    return true;
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** `onerror` stays, as a late error must still be caught. */
  release(): void {
    this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
  }
}
