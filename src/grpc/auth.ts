import { createHash, timingSafeEqual } from 'node:crypto';
import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';

// Load balancers probe health without credentials.
const OPEN_SERVICES = ['/grpc.health.v1.Health/'];

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Requires `authorization: Bearer <key>` on every call when keys are configured. Keys are compared
 * as SHA-256 digests in constant time, so neither their length nor their content leaks.
 */
export function apiKeyInterceptor(apiKeys: readonly string[]): ServerInterceptor {
  const digests = apiKeys.map(digest);
  const check = (metadata: Metadata): string | undefined => {
    const values = metadata.get('authorization');
    if (values.length === 0) return 'missing "authorization: Bearer <api key>" metadata';
    const value = String(values[0]);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(value);
    if (match === null) return 'authorization metadata must be "Bearer <api key>"';
    const presented = digest(match[1]!);
    let ok = false;
    for (const d of digests) if (timingSafeEqual(d, presented)) ok = true;
    return ok ? undefined : 'API key is not valid';
  };
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, forward) => {
            const problem = OPEN_SERVICES.some((p) => method.path.startsWith(p)) ? undefined : check(metadata);
            if (problem === undefined) forward(metadata);
            else call.sendStatus({ code: status.UNAUTHENTICATED, details: problem });
          },
        }),
    });
}
