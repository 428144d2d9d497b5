import type { Logger } from 'pino';
import type { Hub } from '../core/hub.js';
import { loadAssets, type Asset } from './assets.js';
import { mountDemo } from './demo.js';
import { reply } from './http.js';
import { encodeTopicMessage } from './frames.js';
import type { SocketData } from './socket-data.js';
import { socketHandlers } from './socket-handlers.js';
import { BACKLOG_OVERSHOOT_BYTES } from './socket-writer.js';
import { TopicFanout } from './topic-fanout.js';
import { uWS, type HttpRequest, type HttpResponse, type us_listen_socket } from './uws.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly socketSendBufferBytes: number;
  readonly socketIdleTimeoutSeconds: number;
  readonly demo: boolean;
}

export interface Gateway {
  readonly port: number;
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
  const app = uWS.App();
  const fanout = new TopicFanout(app);

  app.ws<SocketData>('/_ah/channel/ws', {
    maxPayloadLength: MAX_INCOMING_FRAME_BYTES,
    idleTimeout: options.socketIdleTimeoutSeconds,
    maxBackpressure: options.socketSendBufferBytes + BACKPRESSURE_HEADROOM_BYTES,
    // Should the headroom ever fall short, uWS closes the socket (the client resumes) rather
    // than skip a frame and leave it open.
    closeOnBackpressureLimit: 1,
    sendPingsAutomatically: true,
    upgrade: handlers.handleUpgrade,
    open: (ws) => {
      ws.getUserData().fanout = fanout;
      handlers.handleOpen(ws);
    },
    message: handlers.handleMessage,
    close: (ws) => {
      handlers.handleClose(ws);
      ws.getUserData().writer?.socketClosed();
    },
  });

  // Encoded once, then fanned out by uWS itself to every subscribed socket.
  hub.setTopicPublisher((topic, _epoch, message) => fanout.publish(topic, encodeTopicMessage(topic, message)));

  app.get('/_ah/channel/jsapi', serveAsset(assets.jsapi));
  app.get('/_ah/channel/channeld.mjs', serveAsset(assets.module));
  app.get('/healthz', (res) => reply(res).send('200 OK', 'text/plain', 'ok\n'));
  let demo: { endStreams(): void } | undefined;
  if (assets.demoPage !== undefined) {
    app.get('/', serveAsset(assets.demoPage));
    demo = mountDemo(app, hub, logger);
  } else {
    app.get('/', (res) => reply(res).send('200 OK', 'text/plain', 'channeld: browsers load /_ah/channel/jsapi\n'));
  }
  app.any('/*', (res) => reply(res).send('404 Not Found', 'text/plain', 'not found\n'));

  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen(options.host, options.port, (socket) =>
      socket ? resolve(socket) : reject(new Error(`cannot listen for HTTP on ${options.host}:${options.port}`)),
    ),
  );
  const port = uWS.us_socket_local_port(listenSocket);
  log.info({ host: options.host, port }, 'HTTP/WebSocket listening');
  let listening = true;
  return {
    port,
    stopListening() {
      if (!listening) return;
      listening = false;
      uWS.us_listen_socket_close(listenSocket);
      demo?.endStreams();
    },
  };
}
