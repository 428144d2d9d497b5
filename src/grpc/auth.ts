import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

// Load balancers probe health without credentials.
const OPEN_SERVICES = ['/grpc.health.v1.Health/'];

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Requires `authorization: Bearer <key>` on every call when keys are configured. Keys are compared
 * as SHA-256 digests in constant time, so neither their length nor their content leaks. Returns
 * the check a call's metadata gets (what is wrong, or undefined), or undefined when `path` needs
 * no key.
 */
export function apiKeyCheck(apiKeys: readonly string[]): (path: string) => ((metadata: Metadata) => string | undefined) | undefined {
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
  return (path) => (OPEN_SERVICES.some((p) => path.startsWith(p)) ? undefined : check);
}
