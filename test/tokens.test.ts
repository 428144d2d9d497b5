import test from 'ava';
import { TokenAuthority } from '../src/core/tokens.js';

const now = 1_800_000_000_000;
const a = new TokenAuthority(['first-secret-0123456789']);

test('tokens - a minted token checks out with its claims until it expires', (t) => {
  const token = a.mint('alice ✓', now, now + 60_000);
  t.regex(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  t.deepEqual(a.check(token, now + 59_999), { ok: true, claims: { clientId: 'alice ✓', issuedAtMs: now, expiresAtMs: now + 60_000 } });
  const expired = a.check(token, now + 60_000);
  t.false(expired.ok);
  t.is(!expired.ok && expired.reason, 'expired');
});

test('tokens - two tokens for the same client id differ', (t) => {
  t.not(a.mint('bob', now, now + 1), a.mint('bob', now, now + 1));
});

test('tokens - any change to payload or signature makes the token invalid', (t) => {
  const token = a.mint('carol', now, now + 60_000);
  const [payload, mac] = token.split('.') as [string, string];
  const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
  for (const bad of [
    `${flip(payload, 5)}.${mac}`,
    `${payload}.${flip(mac, 3)}`,
    `${payload}.${mac}.x`,
    `${payload}`,
    `.${mac}`,
    `${payload}.${mac}=`,
    `${payload}!.${mac}`,
    '',
  ]) {
    const check = a.check(bad, now);
    t.false(check.ok, bad);
    t.is(!check.ok && check.reason, 'invalid', bad);
  }
});

test('tokens - a token signed with another secret is invalid', (t) => {
  const other = new TokenAuthority(['another-secret-0123456789']);
  const check = a.check(other.mint('dave', now, now + 60_000), now);
  t.is(!check.ok && check.reason, 'invalid');
});

test('tokens - rotation: the new key signs, the old key still verifies', (t) => {
  const old = a.mint('erin', now, now + 60_000);
  const rotated = new TokenAuthority(['second-secret-0123456789', 'first-secret-0123456789']);
  t.true(rotated.check(old, now).ok);
  const fresh = rotated.mint('erin', now, now + 60_000);
  t.false(a.check(fresh, now).ok, 'the old authority does not know the new key');
});

test('tokens - short secrets are refused, naming which one', (t) => {
  t.throws(() => new TokenAuthority(['long-enough-secret-1', 'short']), { message: 'token secret #2 is 5 bytes; it must be at least 16' });
  t.throws(() => new TokenAuthority([]), { message: /at least one token secret/ });
});
