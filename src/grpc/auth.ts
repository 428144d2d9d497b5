import type { Metadata } from '@grpc/grpc-js';
import { ApiKeys } from '../core/api-keys.js';

// Load balancers probe health without credentials.
const OPEN_SERVICES = ['/grpc.health.v1.Health/'];

/**
 * Requires `authorization: Bearer <key>` metadata on every call when keys are configured (the
 * comparison is the core's, shared with the HTTP API). Returns the check a call's metadata gets
 * (what is wrong, or undefined), or undefined when `path` needs no key.
 */
export function apiKeyCheck(apiKeys: readonly string[]): (path: string) => ((metadata: Metadata) => string | undefined) | undefined {
  const keys = new ApiKeys(apiKeys);
  const check = (metadata: Metadata): string | undefined => {
    const values = metadata.get('authorization');
    return keys.refusal(values.length === 0 ? undefined : String(values[0]), 'metadata');
  };
  return (path) => (OPEN_SERVICES.some((p) => path.startsWith(p)) ? undefined : check);
}
