import type { Logger } from 'pino';
import type { Hub } from '../core/hub.js';
import { GatewayCounters } from '../metrics/counters.js';
import type { OpsAnswers } from '../metrics/probes.js';
import { compressionOption, createApp, listenExclusive, type Compression, type HttpTls } from './app.js';
import { loadAssets, type Asset } from './assets.js';
import { mountDemo } from './demo.js';
import { mountFallback, type Fallback, type FallbackTuning } from './fallback/routes.js';
import { reply } from './http.js';
import { encodeTopicMessage } from './frames.js';
import { mountOpsRoutes } from './ops-routes.js';
import type { SocketData } from './socket-data.js';
import { socketHandlers } from './socket-handlers.js';
import { BACKLOG_OVERSHOOT_BYTES } from './socket-writer.js';
import { TopicFanout } from './topic-fanout.js';
import { limitUpgrades, UpgradeLimits, type UpgradeLimitOptions } from './upgrade-limits.js';
import { uWS, type HttpRequest, type HttpResponse, type TemplatedApp, type us_listen_socket } from './uws.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly socketSendBufferBytes: number;
  readonly socketIdleTimeoutSeconds: number;
  readonly demo: boolean;
  /** Let the demo's endpoints answer requests from beyond this machine. */
  readonly demoPublic?: boolean;
  /** HTTPS and wss:// on the HTTP port. */
  readonly tls?: HttpTls | undefined;
  readonly compression?: Compression;
  readonly limits?: UpgradeLimitOptions;
  /** /healthz, /readyz and /metrics answers for this port. */
  readonly ops?: OpsAnswers;
  readonly counters?: GatewayCounters;
  /** More routes on this port (the HTTP API), mounted before the catch-all. */
  readonly routes?: (app: TemplatedApp) => void;
  /** Timings of the fallback transport (tests shorten them). */
  readonly fallback?: FallbackTuning;
}

export interface Gateway {
  readonly port: number;
  /** The fallback transport for browsers without WebSocket (docs/protocol.md §5). */
  readonly fallback: Fallback;
  /** Stops accepting connections and ends open HTTP streams; sockets are closed by the hub. */
  stopListening(): void;
}

/** Frames past this are cut off by uWS without a close frame (ours are checked at 16 KiB). */
const MAX_INCOMING_FRAME_BYTES = 64 * 1024;
/**
 * Headroom of uWS's limit over our own cap: what a socket's backlog can grow by before the writer
 * or the fan-out sees it, and the close frame. Over its limit uWS skips frames, so it must never
 * be reached: a slow socket is closed with 4001 and resumes instead.
 */
const BACKPRESSURE_HEADROOM_BYTES = BACKLOG_OVERSHOOT_BYTES + 256;
const ASSET_CACHE = 'public, max-age=300';

function serveAsset(asset: Asset) {
  return (res: HttpResponse, req: HttpRequest): void => {
    const ifNoneMatch = req.getHeader('if-none-match');
    const r = reply(res);
    const headers = { etag: asset.etag, 'cache-control': ASSET_CACHE, 'access-control-allow-origin': '*', 'x-content-type-options': 'nosniff' };
    if (ifNoneMatch === asset.etag) r.send('304 Not Modified', asset.contentType, '', headers);
    else r.send('200 OK', asset.contentType, asset.body, headers);
  };
}

export async function startGateway(hub: Hub, options: GatewayOptions, logger: Logger): Promise<Gateway> {
  const log = logger.child({ mod: 'gateway' });
  const assets = loadAssets(options.demo);
  const handlers = socketHandlers(hub, options.socketSendBufferBytes, logger);
  const app = createApp(options.tls);
  const counters = options.counters ?? new GatewayCounters();
  const compress = (options.compression ?? 'off') !== 'off';
  const fanout = new TopicFanout(app, counters, compress);
  const limits = new UpgradeLimits(options.limits ?? { maxSockets: 0, upgradesPerIpPerSecond: 0, upgradeBurstPerIp: 1, allowedOrigins: [] });

  app.ws<SocketData>('/_ah/channel/ws', {
    maxPayloadLength: MAX_INCOMING_FRAME_BYTES,
    idleTimeout: options.socketIdleTimeoutSeconds,
    maxBackpressure: options.socketSendBufferBytes + BACKPRESSURE_HEADROOM_BYTES,
    // Should the headroom ever fall short, uWS closes the socket (the client resumes) rather
    // than skip a frame and leave it open.
    closeOnBackpressureLimit: 1,
    sendPingsAutomatically: true,
    compression: compressionOption(options.compression ?? 'off'),
    upgrade: limitUpgrades(limits, counters, handlers.handleUpgrade),
    open: (ws) => {
      const data = ws.getUserData();
      data.fanout = fanout;
      data.counters = counters;
      data.compress = compress;
      counters.socketOpened();
      handlers.handleOpen(ws);
    },
    message: handlers.handleMessage,
    close: (ws, code) => {
      counters.socketClosed(code);
      handlers.handleClose(ws);
      ws.getUserData().writer?.socketClosed();
    },
  });

  const fallback = mountFallback(app, hub, { sendBufferBytes: options.socketSendBufferBytes, limits, counters, ...options.fallback }, logger);

  // Encoded once, then fanned out by uWS itself to every subscribed socket (and to fallback connections).
  hub.setTopicPublisher((topic, _epoch, message) => {
    const frame = encodeTopicMessage(topic, message);
    fanout.publish(topic, frame);
    fallback.publish(topic, frame);
  });

  app.get('/_ah/channel/jsapi', serveAsset(assets.jsapi));
  app.get('/_ah/channel/channeld.mjs', serveAsset(assets.module));
  if (options.ops !== undefined) mountOpsRoutes(app, options.ops);
  else app.get('/healthz', (res) => reply(res).send('200 OK', 'text/plain', 'ok\n'));
  let demo: { endStreams(): void } | undefined;
  if (assets.demoPage !== undefined) {
    app.get('/', serveAsset(assets.demoPage));
    demo = mountDemo(app, hub, logger, { allowRemote: options.demoPublic === true, scheme: options.tls === undefined ? 'http' : 'https' });
  } else {
    app.get('/', (res) => reply(res).send('200 OK', 'text/plain', 'channeld: browsers load /_ah/channel/jsapi\n'));
  }
  options.routes?.(app);
  app.any('/*', (res) => reply(res).send('404 Not Found', 'text/plain', 'not found\n'));

  let listenSocket: us_listen_socket;
  try {
    listenSocket = await listenExclusive(app, options.host, options.port);
  } catch (err) {
    limits.stop();
    fallback.stop();
    throw err;
  }
  const port = uWS.us_socket_local_port(listenSocket);
  log.info({ host: options.host, port, tls: options.tls !== undefined, compression: options.compression ?? 'off' }, 'HTTP/WebSocket listening');
  let listening = true;
  return {
    port,
    fallback,
    stopListening() {
      if (!listening) return;
      listening = false;
      uWS.us_listen_socket_close(listenSocket);
      limits.stop();
      fallback.stop();
      demo?.endStreams();
    },
  };
}
