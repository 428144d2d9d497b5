import type { Page } from 'playwright-core';

/** What the test pages record; see PAGE_SCRIPT. */
export interface Recorded {
  readonly ch: string;
  readonly type: string;
  readonly readyState?: number;
  readonly data?: string;
  readonly seq?: number;
  readonly topic?: string;
  readonly epoch?: string;
  readonly previousEpoch?: string;
  readonly code?: number;
  readonly description?: string;
  readonly resumed?: boolean;
  readonly lastSeq?: number;
  readonly byClient?: boolean;
  /** `reconnecting` events: the backoff delay before the next attempt, and the attempt number. */
  readonly delayMs?: number;
  readonly attempt?: number;
  readonly reason?: string;
  /** Date.now() in the page when the event was recorded (the same clock as the test's). */
  readonly at: number;
}
export interface PageGlobals {
  events: Recorded[];
  sockets: Record<string, { close(): void; send(): boolean; readyState: number }>;
  openChannel(name: string, token: string, withHandler?: boolean): void;
  openTyped(name: string, token: string, options?: unknown): void;
  /** URLs of the WebSockets opened since `watchSockets()`. */
  opened: string[];
  watchSockets(): void;
  /** Makes `document.visibilityState` read `state` and fires `visibilitychange`, as a tab switch would. */
  setVisibility(state: 'hidden' | 'visible'): void;
  esm?: { ChannelSocket: new (token: string, options: unknown) => unknown };
}
// Callbacks given to page.evaluate are serialised and run in Chromium, where they cannot see this
// module's scope: each test page defines its own global `page$` to match this typed one.
export const page$ = (): PageGlobals => globalThis as unknown as PageGlobals;
export const PAGE_GLOBALS = 'function page$() { return window; }';

// The App Engine snippet, with handlers assigned after open() (as App Engine apps did), and the
// typed API through window.channeld. Tokens arrive through page.evaluate, never in a URL.
export const PAGE_SCRIPT = `${PAGE_GLOBALS}
window.events = [];
window.sockets = {};
function record(name, socket, type, extra) {
  window.events.push(Object.assign({ ch: name, type: type, readyState: socket.readyState, at: Date.now() }, extra || {}));
}
window.opened = [];
window.watchSockets = function () {
  var PageWebSocket = window.WebSocket;
  window.WebSocket = class extends PageWebSocket {
    constructor(url, protocols) { super(url, protocols); window.opened.push(String(url)); }
  };
};
// Headless Chromium keeps every page visible whatever the test does with windows and tabs.
window.setVisibility = function (state) {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: function () { return state; } });
  document.dispatchEvent(new Event('visibilitychange'));
};
window.openChannel = function (name, token, withHandler) {
  var socket;
  var handler = {
    onopen: function () { record(name, socket, 'open'); },
    onmessage: function (m) { record(name, socket, 'message', { data: m.data, seq: m.seq, topic: m.topic }); },
    onerror: function (e) { record(name, socket, 'error', { code: e.code, description: e.description }); },
    onclose: function () { record(name, socket, 'close'); },
  };
  var channel = new goog.appengine.Channel(token);
  if (withHandler) { socket = channel.open(handler); }
  else {
    socket = channel.open();
    socket.onopen = handler.onopen; socket.onmessage = handler.onmessage;
    socket.onerror = handler.onerror; socket.onclose = handler.onclose;
  }
  window.sockets[name] = socket;
};
window.openTyped = function (name, token, options) {
  var socket = new channeld.ChannelSocket(token, options);
  ['open', 'message', 'notrecovered', 'reconnecting', 'error', 'close'].forEach(function (type) {
    socket.on(type, function (e) { window.events.push(Object.assign({ ch: name, type: type, at: Date.now() }, e)); });
  });
  window.sockets[name] = socket;
};`;

/** A test page that loads the jsapi script from `jsapiUrl` and records what sockets report. */
export function clientPageHtml(jsapiUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><title>app</title><script src="${jsapiUrl}"></script><script>${PAGE_SCRIPT}</script>`;
}

export function eventsOf(page: Page, ch: string): Promise<Recorded[]> {
  return page.evaluate((name) => page$().events.filter((e) => e.ch === name), ch);
}

/** Waits until channel `ch` has recorded `count` events of `type`, then returns all its events. */
export async function waitFor(page: Page, ch: string, type: string, count = 1): Promise<Recorded[]> {
  await page.waitForFunction(
    ([name, kind, n]) => page$().events.filter((e) => e.ch === name && e.type === kind).length >= n,
    [ch, type, count] as const,
    { timeout: 10_000 },
  );
  return eventsOf(page, ch);
}

/** One line per event: `message:<data>`, `message:[<topic>] <data>` for topic messages, `error:<code> <description>`, or the type. */
export const summary = (events: Recorded[]): string[] =>
  events.map((e) => {
    if (e.type === 'message') return e.topic === undefined ? `message:${e.data}` : `message:[${e.topic}] ${e.data}`;
    return e.type === 'error' ? `error:${e.code} ${e.description}` : e.type;
  });
