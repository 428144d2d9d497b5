import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

/**
 * Loads uWebSockets.js and refuses to run on its slow JavaScript fallback: the npm repackaging we
 * use silently swaps in a `ws`-based implementation when its native binary does not load, which
 * would quietly invalidate every performance promise channeld makes.
 */
function loadNative(): typeof UWS {
  if (/^(1|true)$/i.test(process.env['UWS_USE_FALLBACK'] ?? '')) {
    throw new Error('UWS_USE_FALLBACK is set: channeld needs the native uWebSockets.js binding; unset it');
  }
  const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof UWS;
  if (!Function.prototype.toString.call(uws.App).includes('[native code]')) {
    throw new Error(
      `uWebSockets.js native binding did not load for Node ${process.version} (ABI ${process.versions.modules}) on ` +
        `${process.platform}/${process.arch}; channeld will not run on the slow fallback`,
    );
  }
  return uws;
}

export const uWS = loadNative();
export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, us_socket_context_t, WebSocket } from 'uWebSockets.js';
