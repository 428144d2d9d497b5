import type { Logger } from 'pino';
import type { Hub } from '../core/hub.js';
import { toChannelError } from '../core/errors.js';
import { readBody, reply } from './http.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface DemoOptions {
  /** Answer requests from beyond loopback too (--demo-public). */
  readonly allowRemote: boolean;
  /** The scheme the page is served with, for the same-origin check. */
  readonly scheme: 'http' | 'https';
}

const LOCAL_ONLY: DemoOptions = { allowRemote: false, scheme: 'http' };

/** uWS gives IPv6 addresses in full: ::1 and IPv4-mapped 127.x count as loopback. */
export function isLoopbackAddress(address: string): boolean {
  if (address.startsWith('127.')) return true;
  const lower = address.toLowerCase();
  return (
    lower === '::1' ||
    lower === '0000:0000:0000:0000:0000:0000:0000:0001' ||
    lower.startsWith('0000:0000:0000:0000:0000:ffff:7f') ||
    lower.startsWith('::ffff:127.')
  );
}

/** Why a demo request is refused, read from the request before anything is awaited; undefined: allowed. */
function refusal(res: HttpResponse, req: HttpRequest, options: DemoOptions, needsJson: boolean): { status: string; error: string } | undefined {
  if (!options.allowRemote) {
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    // A reverse proxy connects from loopback on behalf of anyone: what it forwards is not local.
    const forwarded = req.getHeader('x-forwarded-for') !== '' || req.getHeader('forwarded') !== '';
    if (!isLoopbackAddress(remote) || forwarded) {
      return { status: '403 Forbidden', error: 'the demo answers requests from this machine only (start channeld with --demo-public to open it)' };
    }
  }
  // A page on another site must not mint tokens through a visitor's browser: browsers name the
  // page's origin on every POST, and a JSON body cannot be sent cross-site without a preflight.
  const origin = req.getHeader('origin');
  const site = req.getHeader('sec-fetch-site');
  const own = `${options.scheme}://${req.getHeader('host')}`;
  if ((origin !== '' && origin !== own) || (site !== '' && site !== 'same-origin' && site !== 'none')) {
    return { status: '403 Forbidden', error: `the demo answers its own page only (origin ${origin === '' ? site : origin} is not ${own})` };
  }
  if (needsJson && !/^application\/json\s*(;|$)/i.test(req.getHeader('content-type'))) {
    return { status: '415 Unsupported Media Type', error: 'send the body as Content-Type: application/json' };
  }
  return undefined;
}

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
export function mountDemo(app: TemplatedApp, hub: Hub, logger: Logger, options: DemoOptions = LOCAL_ONLY): { endStreams(): void } {
  const log = logger.child({ mod: 'demo' });
  const streams = new Set<() => void>();
  let warnedRefusal = false;

  const jsonRoute = (path: string, handle: (body: unknown) => Promise<unknown>): void => {
    app.post(path, (res, req) => {
      const r = reply(res);
      const refused = refusal(res, req, options, true);
      if (refused !== undefined) {
        // Once at warn level, so someone trying the demo from afar learns why; then quietly.
        if (warnedRefusal) log.debug({ path, why: refused.error }, 'demo request refused');
        else log.warn({ path, why: refused.error }, 'demo request refused (further refusals are logged at debug level)');
        warnedRefusal = true;
        res.onData(() => undefined);
        r.json(refused.status, { error: refused.error });
        return;
      }
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

  app.get('/demo/presence', (res, req) => {
    const refused = refusal(res, req, options, false);
    if (refused !== undefined) {
      reply(res).json(refused.status, { error: refused.error });
      return;
    }
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
