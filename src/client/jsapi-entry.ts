// The script served at /_ah/channel/jsapi: the one entry with side effects. It installs
// window.goog.appengine.{Channel,Socket} and window.channeld, both aimed at the server the
// script came from.
import { AppEngineChannel, AppEngineSocket } from './appengine.js';
import { ChannelSocket, type ChannelSocketOptions } from './channel.js';
import * as api from './index.js';
import type { TransportKind } from './transport.js';
import { baseUrlFromScriptSrc } from './url.js';

// document.currentScript is only set while this script first runs, so read it now. The page that
// includes the script is usually on another origin than channeld.
function findScript(): HTMLScriptElement | undefined {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.src !== '') return current;
  const scripts = document.querySelectorAll<HTMLScriptElement>('script[src*="/_ah/channel/jsapi"]');
  return scripts.length > 0 ? scripts[scripts.length - 1] : undefined;
}

// A copy of the script hosted elsewhere (a CDN) names its server with data-channeld-url.
function findBaseUrl(script: HTMLScriptElement | undefined): string {
  if (script === undefined) return location.origin;
  const explicit = script.getAttribute('data-channeld-url');
  if (explicit !== null && explicit !== '') return new URL(explicit, script.src).toString();
  return baseUrlFromScriptSrc(script.src);
}

const TRANSPORTS: readonly TransportKind[] = ['auto', 'websocket', 'sse', 'poll'];

/**
 * A page may force the transport (docs/protocol.md §5) with `jsapi?transport=sse` or
 * data-channeld-transport, so App Engine code that calls `new goog.appengine.Channel(token)`
 * needs no change.
 */
function findTransport(script: HTMLScriptElement | undefined): TransportKind | undefined {
  if (script === undefined) return undefined;
  const asked = script.getAttribute('data-channeld-transport') ?? new URL(script.src).searchParams.get('transport');
  return TRANSPORTS.find((kind) => kind === asked);
}

const script = findScript();
const defaultBaseUrl = findBaseUrl(script);
const defaultTransport = findTransport(script);

function withDefaultBase(options: ChannelSocketOptions): ChannelSocketOptions {
  return {
    ...options,
    baseUrl: options.baseUrl ?? defaultBaseUrl,
    ...(options.transport === undefined && defaultTransport !== undefined ? { transport: defaultTransport } : {}),
  };
}

class Channel extends AppEngineChannel {
  constructor(token: string, options: ChannelSocketOptions = {}) {
    super(token, withDefaultBase(options));
  }
}

class ScriptChannelSocket extends ChannelSocket {
  constructor(token: string, options: ChannelSocketOptions = {}) {
    super(token, withDefaultBase(options));
  }
}

interface GoogNamespace {
  appengine?: Record<string, unknown>;
  [key: string]: unknown;
}

const host = window as unknown as { goog?: GoogNamespace; channeld?: unknown };
// Merge: other Closure code may already have defined parts of `goog`.
const goog: GoogNamespace = host.goog ?? (host.goog = {});
const appengine = goog.appengine ?? (goog.appengine = {});
appengine['Channel'] = Channel;
appengine['Socket'] = AppEngineSocket;

host.channeld = {
  ...api,
  AppEngineChannel: Channel,
  ChannelSocket: ScriptChannelSocket,
  baseUrl: defaultBaseUrl,
};
