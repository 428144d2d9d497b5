import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientId } from './types.js';

/**
 * Tokens are opaque, like App Engine's: AES-256-GCM over (issue time, expiry, client id), so any
 * node holding the secret can verify one without a lookup, and nobody without it can read or
 * forge one. Layout, big-endian:
 *   u8 version (2) | 12-byte random IV | ciphertext of (u64 issuedAtMs | u64 expiresAtMs | client id) | 16-byte tag
 * The token is base64url of that: only characters legal in a URL, a header and a WebSocket
 * subprotocol name. The version byte is authenticated too (it is the GCM associated data).
 *
 * Version 1 tokens (HMAC-signed, readable) are still verified so that a rolling upgrade does not
 * log anyone out; they are never minted again and die with their expiry (24 h at most).
 */
const VERSION = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const TIMES_BYTES = 16;
const AES_KEY_BYTES = 32;
const KEY_SALT = 'channeld token v2';
/** Secrets shorter than this are refused: keys should carry at least 128 bits. */
export const MIN_SECRET_BYTES = 16;

const V1 = 1;
const V1_HEADER_BYTES = 1 + 8 + 8 + 16;
const V1_MAC_BYTES = 32;

export interface TokenClaims {
  readonly clientId: ClientId;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

export type TokenCheck =
  | { readonly ok: true; readonly claims: TokenClaims }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired'; readonly claims?: TokenClaims };

interface TokenKey {
  /** Derived from the secret for AES-GCM; the secret itself is never the cipher key. */
  readonly aes: Buffer;
  /** The secret as given: the HMAC key of version 1 tokens. */
  readonly hmac: Buffer;
}

export class TokenAuthority {
  private readonly keys: readonly TokenKey[];

  /** The first secret mints; every secret verifies, so keys can be rotated without downtime. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('at least one token secret is needed');
    this.keys = secrets.map((secret, i) => {
      const hmac = Buffer.from(secret, 'utf8');
      if (hmac.length < MIN_SECRET_BYTES) {
        throw new Error(`token secret #${i + 1} is ${hmac.length} bytes; it must be at least ${MIN_SECRET_BYTES}`);
      }
      const aes = Buffer.from(hkdfSync('sha256', hmac, KEY_SALT, 'aes-256-gcm', AES_KEY_BYTES));
      return { aes, hmac };
    });
  }

  static withRandomSecret(): TokenAuthority {
    return new TokenAuthority([randomBytes(32).toString('base64url')]);
  }

  mint(clientId: ClientId, issuedAtMs: number, expiresAtMs: number): string {
    const id = Buffer.from(clientId, 'utf8');
    const plain = Buffer.allocUnsafe(TIMES_BYTES + id.length);
    plain.writeBigUInt64BE(BigInt(issuedAtMs), 0);
    plain.writeBigUInt64BE(BigInt(expiresAtMs), 8);
    id.copy(plain, TIMES_BYTES);
    const header = Buffer.from([VERSION]);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!.aes, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(header);
    const sealed = Buffer.concat([header, iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  /** Checks authenticity (against every key, whichever matches) and then expiry at `nowMs`. */
  check(token: string, nowMs: number): TokenCheck {
    const claims = token.includes('.') ? this.openV1(token) : this.open(token);
    if (claims === undefined) return { ok: false, reason: 'invalid' };
    if (nowMs >= claims.expiresAtMs) return { ok: false, reason: 'expired', claims };
    return { ok: true, claims };
  }

  private open(token: string): TokenClaims | undefined {
    const sealed = Buffer.from(token, 'base64url');
    // Node's base64 decoder skips characters it does not know; insist on the canonical spelling.
    if (sealed.toString('base64url') !== token) return undefined;
    if (sealed.length <= 1 + IV_BYTES + TIMES_BYTES + TAG_BYTES || sealed[0] !== VERSION) return undefined;
    const header = sealed.subarray(0, 1);
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const body = sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    let plain: Buffer | undefined;
    for (const key of this.keys) {
      // Every key is tried, so the time taken does not tell which one matched.
      const opened = decrypt(key.aes, header, iv, body, tag);
      plain ??= opened;
    }
    if (plain === undefined) return undefined;
    return {
      issuedAtMs: Number(plain.readBigUInt64BE(0)),
      expiresAtMs: Number(plain.readBigUInt64BE(8)),
      clientId: plain.subarray(TIMES_BYTES).toString('utf8'),
    };
  }

  /** Version 1: base64url(payload) "." base64url(HMAC-SHA256(payload)). */
  private openV1(token: string): TokenClaims | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot !== token.lastIndexOf('.')) return undefined;
    const payloadText = token.slice(0, dot);
    const macText = token.slice(dot + 1);
    const payload = Buffer.from(payloadText, 'base64url');
    const mac = Buffer.from(macText, 'base64url');
    if (payload.toString('base64url') !== payloadText || mac.toString('base64url') !== macText) return undefined;
    if (payload.length <= V1_HEADER_BYTES || mac.length !== V1_MAC_BYTES || payload.readUInt8(0) !== V1) return undefined;
    let valid = false;
    for (const key of this.keys) {
      // No early exit: the time taken must not tell which key matched.
      if (timingSafeEqual(createHmac('sha256', key.hmac).update(payload).digest(), mac)) valid = true;
    }
    if (!valid) return undefined;
    return {
      issuedAtMs: Number(payload.readBigUInt64BE(1)),
      expiresAtMs: Number(payload.readBigUInt64BE(9)),
      clientId: payload.subarray(V1_HEADER_BYTES).toString('utf8'),
    };
  }
}

/** The plaintext, or undefined when the tag does not verify under `key` (GCM checks it in constant time). */
function decrypt(key: Buffer, header: Buffer, iv: Buffer, body: Buffer, tag: Buffer): Buffer | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(header);
  decipher.setAuthTag(tag);
  const plain = decipher.update(body);
  try {
    return Buffer.concat([plain, decipher.final()]);
  } catch {
    return undefined;
  }
}
