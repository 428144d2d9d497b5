/**
 * Frames of docs/protocol.md §2: one JSON array per UTF-8 text frame, first element the type.
 * Decoding is separate from meaning: this file only checks shapes; channel.ts decides what a
 * well-formed frame means in the socket's current state.
 */
export const FrameType = { WELCOME: 0, MESSAGE: 1, ACK: 3 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface WelcomeFrame {
  readonly type: typeof FrameType.WELCOME;
  readonly epoch: string;
  readonly seq: number;
  readonly recovered: boolean;
}

export interface MessageFrame {
  readonly type: typeof FrameType.MESSAGE;
  readonly seq: number;
  readonly data: string;
}

/** A well-formed array with a type this client does not know; a later protocol may add some. */
export interface UnknownFrame {
  readonly type: 'unknown';
  readonly frameType: number;
}

export type ServerFrame = WelcomeFrame | MessageFrame | UnknownFrame;

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Decodes one server → client frame, or returns undefined when it is malformed (not JSON, not an
 * array, wrong element types). Trailing extra elements are tolerated so that a server may append
 * fields without breaking older clients.
 */
export function decodeServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const items: readonly unknown[] = value;
  const type = items[0];
  if (typeof type !== 'number' || !Number.isSafeInteger(type) || type < 0) return undefined;
  switch (type) {
    case FrameType.WELCOME: {
      const [, epoch, seq, recovered] = items;
      if (typeof epoch !== 'string' || epoch === '' || !isSeq(seq) || typeof recovered !== 'boolean') {
        return undefined;
      }
      return { type: FrameType.WELCOME, epoch, seq, recovered };
    }
    case FrameType.MESSAGE: {
      const [, seq, data] = items;
      if (!isSeq(seq) || seq === 0 || typeof data !== 'string') return undefined;
      return { type: FrameType.MESSAGE, seq, data };
    }
    case FrameType.ACK:
      // Acks only travel client → server; one arriving here is a broken server.
      return undefined;
    default:
      return { type: 'unknown', frameType: type };
  }
}

/** `[3, seq]`: every message up to `seq` has been received. */
export function encodeAck(seq: number): string {
  if (!isSeq(seq)) throw new RangeError(`ack seq must be a non-negative integer, got ${seq}`);
  return `[${FrameType.ACK},${seq}]`;
}
