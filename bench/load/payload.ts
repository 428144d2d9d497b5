/**
 * The message every generator sends: `<clientIdx>:<n>:<sentAtUs>:` then padding. Only digits,
 * colons and letters, so it needs no JSON escaping and a receiver can read it straight from the
 * frame bytes. `clientIdx` is -1 for topic broadcasts (every member gets the same message).
 */
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;

export function encodePayload(clientIdx: number, n: number, sentAtUs: number, bytes: number): string {
  const head = `${clientIdx}:${n}:${sentAtUs}:`;
  return bytes > head.length ? head + 'x'.repeat(bytes - head.length) : head;
}

export interface ParsedPayload {
  clientIdx: number;
  n: number;
  sentAtUs: number;
}

/**
 * Reads the three numbers starting at `pos`; returns false when the bytes are not a payload.
 * Fills `out` instead of allocating: receivers call this for every frame.
 */
export function parsePayload(buf: Uint8Array, pos: number, end: number, out: ParsedPayload): boolean {
  let field = 0;
  let value = 0;
  let negative = false;
  let digits = 0;
  for (let i = pos; i < end; i++) {
    const c = buf[i]!;
    if (c === COLON) {
      if (digits === 0) return false;
      const v = negative ? -value : value;
      if (field === 0) out.clientIdx = v;
      else if (field === 1) out.n = v;
      else {
        out.sentAtUs = v;
        return true;
      }
      field++;
      value = 0;
      digits = 0;
      negative = false;
    } else if (c === MINUS && digits === 0 && !negative) {
      negative = true;
    } else {
      const d = c - ZERO;
      if (d < 0 || d > 9) return false;
      value = value * 10 + d;
      digits++;
    }
  }
  return false;
}
