import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientId } from './types.js';

/**
 * Tokens are HMAC-SHA256 over (version, issue time, expiry, nonce, client id), so any node holding
 * the secret can verify one without a lookup. Layout of the signed payload, big-endian:
 *   u8 version | u64 issuedAtMs | u64 expiresAtMs | 16-byte nonce | client id (UTF-8)
 * The token is base64url(payload) "." base64url(mac): only characters legal in a URL, a header and
 * a WebSocket subprotocol name.
 */
const VERSION = 1;
const HEADER_BYTES = 1 + 8 + 8 + 16;
const MAC_BYTES = 32;
/** Secrets shorter than this are refused: HMAC keys should carry at least 128 bits. */
export const MIN_SECRET_BYTES = 16;

export interface TokenClaims {
  readonly clientId: ClientId;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

export type TokenCheck =
  | { readonly ok: true; readonly claims: TokenClaims }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired'; readonly claims?: TokenClaims };

export class TokenAuthority {
  private readonly keys: readonly Buffer[];

  /** The first secret signs; every secret verifies, so keys can be rotated without downtime. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('at least one token secret is needed');
    this.keys = secrets.map((secret, i) => {
      const key = Buffer.from(secret, 'utf8');
      if (key.length < MIN_SECRET_BYTES) {
        throw new Error(`token secret #${i + 1} is ${key.length} bytes; it must be at least ${MIN_SECRET_BYTES}`);
      }
      return key;
    });
  }

  static withRandomSecret(): TokenAuthority {
    return new TokenAuthority([randomBytes(32).toString('base64url')]);
  }

  mint(clientId: ClientId, issuedAtMs: number, expiresAtMs: number): string {
    const id = Buffer.from(clientId, 'utf8');
    const payload = Buffer.allocUnsafe(HEADER_BYTES + id.length);
    payload.writeUInt8(VERSION, 0);
    payload.writeBigUInt64BE(BigInt(issuedAtMs), 1);
    payload.writeBigUInt64BE(BigInt(expiresAtMs), 9);
    randomBytes(16).copy(payload, 17);
    id.copy(payload, HEADER_BYTES);
    return `${payload.toString('base64url')}.${this.sign(this.keys[0]!, payload).toString('base64url')}`;
  }

  /** Checks signature (constant time, against every key) and then expiry at `nowMs`. */
  check(token: string, nowMs: number): TokenCheck {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return { ok: false, reason: 'invalid' };
    const payloadText = token.slice(0, dot);
    const macText = token.slice(dot + 1);
    const payload = Buffer.from(payloadText, 'base64url');
    const mac = Buffer.from(macText, 'base64url');
    // Node's base64 decoder skips characters it does not know; insist on the canonical spelling.
    if (payload.toString('base64url') !== payloadText || mac.toString('base64url') !== macText) {
      return { ok: false, reason: 'invalid' };
    }
    if (payload.length <= HEADER_BYTES || mac.length !== MAC_BYTES || payload.readUInt8(0) !== VERSION) {
      return { ok: false, reason: 'invalid' };
    }
    let valid = false;
    for (const key of this.keys) {
      // No early exit: the time taken must not tell which key matched.
      if (timingSafeEqual(this.sign(key, payload), mac)) valid = true;
    }
    if (!valid) return { ok: false, reason: 'invalid' };
    const claims: TokenClaims = {
      issuedAtMs: Number(payload.readBigUInt64BE(1)),
      expiresAtMs: Number(payload.readBigUInt64BE(9)),
      clientId: payload.subarray(HEADER_BYTES).toString('utf8'),
    };
    if (nowMs >= claims.expiresAtMs) return { ok: false, reason: 'expired', claims };
    return { ok: true, claims };
  }

  private sign(key: Buffer, payload: Buffer): Buffer {
    return createHmac('sha256', key).update(payload).digest();
  }
}
