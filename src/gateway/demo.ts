import type { Logger } from 'pino';
import type { Hub } from '../core/hub.js';
import { toChannelError } from '../core/errors.js';
import { readBody, reply } from './http.js';
import type { TemplatedApp } from './uws.js';

const MAX_BODY_BYTES = 64 * 1024;

function field(body: unknown, name: string): string {
  if (typeof body !== 'object' || body === null) throw new Error('body must be a JSON object');
  const value = (body as Record<string, unknown>)[name];
  if (typeof value !== 'string') throw new Error(`"${name}" must be a string`);
  return value;
}

/**
 * The demo page's endpoints. They let anyone mint tokens, so they exist only in demo mode, which
 * the server refuses to combine with API keys.
 */
export function mountDemo(app: TemplatedApp, hub: Hub, logger: Logger): { endStreams(): void } {
  const log = logger.child({ mod: 'demo' });
  const streams = new Set<() => void>();

  const jsonRoute = (path: string, handle: (body: unknown) => Promise<unknown>): void => {
    app.post(path, (res) => {
      const r = reply(res);
      readBody(res, MAX_BODY_BYTES)
        .then((raw) => handle(JSON.parse(raw.toString('utf8')) as unknown))
        .then(
          (value) => r.json('200 OK', value),
          (err: unknown) => {
            const error = toChannelError(err);
            log.debug({ err: error.message, path }, 'demo request refused');
            r.json('400 Bad Request', { error: error.message });
          },
        );
    });
  };

  jsonRoute('/demo/channels', async (body) => {
    const clientId = field(body, 'client_id');
    const created = await hub.api.createChannel(clientId, 0);
    return { client_id: clientId, token: created.token, expire_time: new Date(created.expiresAtMs).toISOString() };
  });

  jsonRoute('/demo/messages', async (body) => {
    const result = await hub.api.sendMessage({
      target: { clientId: field(body, 'client_id') },
      message: field(body, 'message'),
      idempotencyKey: '',
    });
    return { seq: result.seq, connected: result.connected };
  });

  app.get('/demo/presence', (res) => {
    let open = true;
    const unsubscribe = hub.presence.onPresenceChange((change) => {
      if (!open) return;
      const event = { client_id: change.clientId, state: change.state.toUpperCase(), time: new Date(change.timeMs).toISOString() };
      res.cork(() => res.write(`data: ${JSON.stringify(event)}\n\n`));
    });
    const stop = (): void => {
      open = false;
      unsubscribe();
      streams.delete(end);
    };
    const end = (): void => {
      if (!open) return;
      stop();
      res.cork(() => res.end());
    };
    streams.add(end);
    res.onAborted(stop);
    res.writeHeader('content-type', 'text/event-stream').writeHeader('cache-control', 'no-store');
    res.write(': presence stream\n\n');
  });

  return {
    endStreams() {
      for (const end of [...streams]) end();
    },
  };
}
