import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_BUILD_DIR, DEMO_PAGE } from '../paths.js';

/** A file served as is, with a strong ETag so browsers revalidate cheaply. */
export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
}

function load(path: string, contentType: string): Asset {
  const body = readFileSync(path);
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export interface Assets {
  readonly jsapi: Asset;
  readonly module: Asset;
  readonly demoPage: Asset | undefined;
}

/** The browser client bundles come from `npm run build`; without them the gateway cannot serve /_ah/channel/jsapi. */
export function loadAssets(demo: boolean): Assets {
  const jsapi = join(CLIENT_BUILD_DIR, 'jsapi.js');
  const module = join(CLIENT_BUILD_DIR, 'channeld.mjs');
  for (const path of [jsapi, module]) {
    if (!existsSync(path)) throw new Error(`the browser client is not built (${path} is missing): run "npm run build"`);
  }
  return {
    jsapi: load(jsapi, 'application/javascript; charset=utf-8'),
    module: load(module, 'text/javascript; charset=utf-8'),
    demoPage: demo ? load(DEMO_PAGE, 'text/html; charset=utf-8') : undefined,
  };
}
