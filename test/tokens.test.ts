import { createHmac, randomBytes } from 'node:crypto';
import test from 'ava';
import { TokenAuthority } from '../src/core/tokens.js';

const now = 1_800_000_000_000;
const secret = 'first-secret-0123456789';
const a = new TokenAuthority([secret]);

/** A version 1 token as channeld minted them before tokens became opaque (HMAC-signed, readable). */
function v1Token(key: string, clientId: string, issuedAtMs: number, expiresAtMs: number): string {
  const id = Buffer.from(clientId, 'utf8');
  const payload = Buffer.alloc(33 + id.length);
  payload.writeUInt8(1, 0);
  payload.writeBigUInt64BE(BigInt(issuedAtMs), 1);
  payload.writeBigUInt64BE(BigInt(expiresAtMs), 9);
  randomBytes(16).copy(payload, 17);
  id.copy(payload, 33);
  return `${payload.toString('base64url')}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);

test('tokens - a minted token checks out with its claims until it expires', (t) => {
  const token = a.mint('alice ✓', now, now + 60_000);
  t.regex(token, /^[A-Za-z0-9_-]+$/);
  t.deepEqual(a.check(token, now + 59_999), { ok: true, claims: { clientId: 'alice ✓', issuedAtMs: now, expiresAtMs: now + 60_000 } });
  const expired = a.check(token, now + 60_000);
  t.false(expired.ok);
  t.is(!expired.ok && expired.reason, 'expired');
});

test('tokens - are opaque: neither the client id nor the times can be read from one', (t) => {
  const clientId = 'user-4242@example.com';
  const token = a.mint(clientId, now, now + 60_000);
  const bytes = Buffer.from(token, 'base64url');
  t.false(bytes.includes(Buffer.from(clientId)), 'the client id is not in the token in clear');
  t.false(token.includes(Buffer.from(clientId).toString('base64url').slice(0, 12)), 'nor base64-encoded');
  const times = Buffer.alloc(8);
  times.writeBigUInt64BE(BigInt(now));
  t.false(bytes.includes(times), 'the issue time is not in clear');
  // Two tokens for the same claims share no run of bytes beyond chance.
  const again = Buffer.from(a.mint(clientId, now, now + 60_000), 'base64url');
  t.false(again.subarray(13, 29).equals(bytes.subarray(13, 29)));
});

test('tokens - stay short enough for a Sec-WebSocket-Protocol value with the longest client id', (t) => {
  const token = a.mint('x'.repeat(256), now, now + 60_000);
  t.true(token.length < 450, `${token.length} characters`);
});

test('tokens - two tokens for the same client id differ', (t) => {
  t.not(a.mint('bob', now, now + 1), a.mint('bob', now, now + 1));
});

test('tokens - any change makes the token invalid', (t) => {
  const token = a.mint('carol', now, now + 60_000);
  for (const bad of [
    flip(token, 0),
    flip(token, 5),
    flip(token, 20),
    flip(token, token.length - 3),
    token.slice(0, -1),
    `${token}A`,
    `${token}=`,
    `${token}!`,
    `${token}.x`,
    `.${token}`,
    '',
    'AQ',
  ]) {
    const check = a.check(bad, now);
    t.false(check.ok, bad);
    t.is(!check.ok && check.reason, 'invalid', bad);
  }
});

test('tokens - a token minted with another secret is invalid', (t) => {
  const other = new TokenAuthority(['another-secret-0123456789']);
  const check = a.check(other.mint('dave', now, now + 60_000), now);
  t.is(!check.ok && check.reason, 'invalid');
});

test('tokens - rotation: the new key mints, the old key still verifies', (t) => {
  const old = a.mint('erin', now, now + 60_000);
  const rotated = new TokenAuthority(['second-secret-0123456789', secret]);
  t.true(rotated.check(old, now).ok);
  const fresh = rotated.mint('erin', now, now + 60_000);
  t.false(a.check(fresh, now).ok, 'the old authority does not know the new key');
  t.true(rotated.check(fresh, now).ok);
});

test('tokens - version 1 tokens minted before the upgrade still verify, and forged ones do not', (t) => {
  const old = v1Token(secret, 'frank', now, now + 60_000);
  t.deepEqual(a.check(old, now), { ok: true, claims: { clientId: 'frank', issuedAtMs: now, expiresAtMs: now + 60_000 } });
  const [payload, mac] = old.split('.') as [string, string];
  for (const bad of [`${flip(payload, 5)}.${mac}`, `${payload}.${flip(mac, 3)}`, `${payload}.${mac}.x`, `.${mac}`, `${payload}!.${mac}`]) {
    t.false(a.check(bad, now).ok, bad);
  }
  t.false(a.check(v1Token('another-secret-0123456789', 'frank', now, now + 60_000), now).ok);
  const expired = a.check(old, now + 60_000);
  t.is(!expired.ok && expired.reason, 'expired');
});

test('tokens - short secrets are refused, naming which one', (t) => {
  t.throws(() => new TokenAuthority(['long-enough-secret-1', 'short']), { message: 'token secret #2 is 5 bytes; it must be at least 16' });
  t.throws(() => new TokenAuthority([]), { message: /at least one token secret/ });
});
