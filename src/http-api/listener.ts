import type { Logger } from 'pino';
import { createApp, listenExclusive, type HttpTls } from '../gateway/app.js';
import { uWS } from '../gateway/uws.js';
import { HttpApiError } from './errors.js';
import { ApiResponse, type HttpApi } from './routes.js';

export interface ApiListener {
  readonly port: number;
  close(): void;
}

/** --api-port: the HTTP API alone on a listener of its own (TLS as on the HTTP port). */
export async function startApiListener(api: HttpApi, host: string, port: number, tls: HttpTls | undefined, logger: Logger): Promise<ApiListener> {
  const app = createApp(tls);
  api.mount(app);
  app.any('/*', (res, req) => {
    const path = req.getUrl();
    new ApiResponse(res).error(new HttpApiError('NOT_FOUND', `${path} is not a ChannelService method; POST /channel.v1.ChannelService/<Method>`));
  });
  const socket = await listenExclusive(app, host, port).catch((err: unknown) => {
    throw new Error(`--api-port: ${(err as Error).message}`);
  });
  const bound = uWS.us_socket_local_port(socket);
  logger.child({ mod: 'http-api' }).info({ host, port: bound, tls: tls !== undefined }, 'HTTP API listening');
  let open = true;
  return {
    port: bound,
    close() {
      if (!open) return;
      open = false;
      uWS.us_listen_socket_close(socket);
    },
  };
}
