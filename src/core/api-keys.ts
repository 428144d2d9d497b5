import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Where a transport carries the `authorization` value, for the wording of refusals. */
export type KeyCarrier = 'metadata' | 'header';

/**
 * The API keys backends present as `authorization: Bearer <key>`, whatever carries them (gRPC
 * metadata, an HTTP header). Keys are compared as SHA-256 digests in constant time, so neither
 * their length nor their content leaks.
 */
export class ApiKeys {
  private readonly digests: readonly Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = keys.map(digest);
  }

  get required(): boolean {
    return this.digests.length > 0;
  }

  /** Why `authorization` ('' or undefined when absent) does not let a call through; undefined when it does. */
  refusal(authorization: string | undefined, carrier: KeyCarrier): string | undefined {
    if (!this.required) return undefined;
    if (authorization === undefined || authorization === '') return `missing "authorization: Bearer <api key>" ${carrier}`;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) return `authorization ${carrier} must be "Bearer <api key>"`;
    const presented = digest(match[1]!);
    let ok = false;
    for (const d of this.digests) if (timingSafeEqual(d, presented)) ok = true;
    return ok ? undefined : 'API key is not valid';
  }
}
