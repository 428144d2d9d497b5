// Cost of channeld's token formats: mints and checks per second, opaque (AES-256-GCM, version 2)
// against the readable HMAC tokens of version 1, measured in the same run on this machine.
// Run: npx tsx bench/tokens.ts [iterations]
import { createHmac, randomBytes } from 'node:crypto';
import { TokenAuthority } from '../src/core/tokens.js';

const iterations = Number(process.argv[2] ?? 200_000);
const secrets = ['bench-secret-0123456789abcdef', 'older-secret-0123456789abcdef'];
const authority = new TokenAuthority(secrets);
const clientId = 'user-000042@example.com';
const now = Date.now();

function mintV1(clientIdText: string): string {
  const id = Buffer.from(clientIdText, 'utf8');
  const payload = Buffer.alloc(33 + id.length);
  payload.writeUInt8(1, 0);
  payload.writeBigUInt64BE(BigInt(now), 1);
  payload.writeBigUInt64BE(BigInt(now + 3_600_000), 9);
  randomBytes(16).copy(payload, 17);
  id.copy(payload, 33);
  return `${payload.toString('base64url')}.${createHmac('sha256', secrets[0]!).update(payload).digest('base64url')}`;
}

function rate(fn: (i: number) => unknown): number {
  for (let i = 0; i < 5_000; i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return iterations / (Number(process.hrtime.bigint() - start) / 1e9);
}

const v2Tokens = Array.from({ length: 1024 }, () => authority.mint(clientId, now, now + 3_600_000));
const v1Tokens = Array.from({ length: 1024 }, () => mintV1(clientId));
const results = {
  'mint v2 (opaque)': rate(() => authority.mint(clientId, now, now + 3_600_000)),
  'mint v1 (HMAC)': rate(() => mintV1(clientId)),
  'check v2, 2 keys': rate((i) => authority.check(v2Tokens[i & 1023]!, now)),
  'check v1, 2 keys': rate((i) => authority.check(v1Tokens[i & 1023]!, now)),
};
for (const [name, perSecond] of Object.entries(results)) console.log(`${name.padEnd(20)} ${Math.round(perSecond).toLocaleString('en')} /s`);
console.log(`v2 ÷ v1: mint ${(results['mint v2 (opaque)'] / results['mint v1 (HMAC)']).toFixed(2)}×, check ${(results['check v2, 2 keys'] / results['check v1, 2 keys']).toFixed(2)}×`);
console.log(`token length for a ${clientId.length}-byte client id: v2 ${v2Tokens[0]!.length}, v1 ${v1Tokens[0]!.length} characters`);
