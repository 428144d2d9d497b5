/**
 * Frames of docs/protocol.md §2: one JSON array per UTF-8 text frame, first element the type.
 * Decoding is separate from meaning: this file only checks shapes; channel.ts decides what a
 * well-formed frame means in the socket's current state.
 */
export const FrameType = {
  WELCOME: 0,
  MESSAGE: 1,
  TOPIC_MESSAGE: 2,
  ACK: 3,
  TOPIC_WELCOME: 4,
  TOPIC_RESUME: 5,
  TOPIC_LEFT: 6,
} as const;
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

export interface TopicMessageFrame {
  readonly type: typeof FrameType.TOPIC_MESSAGE;
  readonly topic: string;
  readonly seq: number;
  readonly data: string;
}

export interface TopicWelcomeFrame {
  readonly type: typeof FrameType.TOPIC_WELCOME;
  readonly topic: string;
  readonly epoch: string;
  readonly seq: number;
  readonly recovered: boolean;
}

export interface TopicLeftFrame {
  readonly type: typeof FrameType.TOPIC_LEFT;
  readonly topic: string;
}

/** A client's position in one topic, as the topic resume frame carries it: topic, epoch, seq. */
export type TopicPosition = readonly [topic: string, epoch: string, seq: number];

/** A well-formed array with a type this client does not know; a later protocol may add some. */
export interface UnknownFrame {
  readonly type: 'unknown';
  readonly frameType: number;
}

export type ServerFrame = WelcomeFrame | MessageFrame | TopicMessageFrame | TopicWelcomeFrame | TopicLeftFrame | UnknownFrame;

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
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
      if (!isName(epoch) || !isSeq(seq) || typeof recovered !== 'boolean') {
        return undefined;
      }
      return { type: FrameType.WELCOME, epoch, seq, recovered };
    }
    case FrameType.MESSAGE: {
      const [, seq, data] = items;
      if (!isSeq(seq) || seq === 0 || typeof data !== 'string') return undefined;
      return { type: FrameType.MESSAGE, seq, data };
    }
    case FrameType.TOPIC_MESSAGE: {
      const [, topic, seq, data] = items;
      if (!isName(topic) || !isSeq(seq) || seq === 0 || typeof data !== 'string') return undefined;
      return { type: FrameType.TOPIC_MESSAGE, topic, seq, data };
    }
    case FrameType.TOPIC_WELCOME: {
      const [, topic, epoch, seq, recovered] = items;
      if (!isName(topic) || !isName(epoch) || !isSeq(seq) || typeof recovered !== 'boolean') return undefined;
      return { type: FrameType.TOPIC_WELCOME, topic, epoch, seq, recovered };
    }
    case FrameType.TOPIC_LEFT: {
      const [, topic] = items;
      return isName(topic) ? { type: FrameType.TOPIC_LEFT, topic } : undefined;
    }
    case FrameType.ACK:
    case FrameType.TOPIC_RESUME:
      // These only travel client → server; one arriving here is a broken server.
      return undefined;
    default:
      return { type: 'unknown', frameType: type };
  }
}

/** `[3, seq]` (or `[3, seq, topic]`): every message up to `seq` of the channel (or topic) has been received. */
export function encodeAck(seq: number, topic?: string): string {
  if (!isSeq(seq)) throw new RangeError(`ack seq must be a non-negative integer, got ${seq}`);
  return topic === undefined ? `[${FrameType.ACK},${seq}]` : JSON.stringify([FrameType.ACK, seq, topic]);
}

/** `[5, [[topic, epoch, seq], …]]`: where the client stands in each of its topics. */
export function encodeTopicResume(positions: readonly TopicPosition[]): string {
  return JSON.stringify([FrameType.TOPIC_RESUME, positions]);
}
