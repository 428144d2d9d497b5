import type { ChannelMessage, Epoch, StreamPosition, Topic } from '../core/types.js';

/** Frame types of docs/protocol.md §2. */
export const FrameType = {
  Welcome: 0,
  Message: 1,
  TopicMessage: 2,
  Ack: 3,
  TopicWelcome: 4,
  TopicResume: 5,
  TopicLeft: 6,
} as const;

// A broadcast hands the same data string to every recipient: escape it once (a one-entry cache,
// compared by identity first, so the hot path does no work per recipient).
let lastData = '';
let lastEscaped = '""';
function escaped(data: string): string {
  if (data !== lastData) {
    lastData = data;
    lastEscaped = JSON.stringify(data);
  }
  return lastEscaped;
}

export function encodeWelcome(epoch: Epoch, seq: number, recovered: boolean): string {
  return `[${FrameType.Welcome},${JSON.stringify(epoch)},${seq},${recovered}]`;
}

export function encodeMessage(message: ChannelMessage): string {
  return `[${FrameType.Message},${message.seq},${escaped(message.data)}]`;
}

/** Built once per topic message and handed to the gateway's pub/sub as is. */
export function encodeTopicMessage(topic: Topic, message: ChannelMessage): string {
  return `[${FrameType.TopicMessage},${JSON.stringify(topic)},${message.seq},${escaped(message.data)}]`;
}

export function encodeTopicWelcome(topic: Topic, epoch: Epoch, seq: number, recovered: boolean): string {
  return `[${FrameType.TopicWelcome},${JSON.stringify(topic)},${JSON.stringify(epoch)},${seq},${recovered}]`;
}

export function encodeTopicLeft(topic: Topic): string {
  return `[${FrameType.TopicLeft},${JSON.stringify(topic)}]`;
}

export type ClientFrame =
  | { readonly type: typeof FrameType.Ack; readonly seq: number; readonly topic: Topic | undefined }
  | { readonly type: typeof FrameType.TopicResume; readonly positions: ReadonlyMap<Topic, StreamPosition> };

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 128;
}

function decodePositions(value: unknown): Map<Topic, StreamPosition> | undefined {
  if (!Array.isArray(value) || value.length > 1000) return undefined;
  const positions = new Map<Topic, StreamPosition>();
  for (const entry of value) {
    if (!Array.isArray(entry) || entry.length !== 3) return undefined;
    const [topic, epoch, seq] = entry as unknown[];
    if (!isName(topic) || !isName(epoch) || !isSeq(seq)) return undefined;
    positions.set(topic, { epoch, seq });
  }
  return positions;
}

/** Decodes a frame from a browser; undefined for anything the protocol does not allow. */
export function decodeClientFrame(text: string): ClientFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (value[0] === FrameType.Ack) {
    if (value.length === 2 && isSeq(value[1])) return { type: FrameType.Ack, seq: value[1], topic: undefined };
    if (value.length === 3 && isSeq(value[1]) && isName(value[2])) return { type: FrameType.Ack, seq: value[1], topic: value[2] };
    return undefined;
  }
  if (value[0] === FrameType.TopicResume && value.length === 2) {
    const positions = decodePositions(value[1]);
    return positions === undefined ? undefined : { type: FrameType.TopicResume, positions };
  }
  return undefined;
}

/** Reads the resume position from the upgrade query (`epoch` and `seq`, both or neither) and `topics=1`. */
export function parseResume(query: string): { position: StreamPosition | undefined; topics: boolean } | 'bad' {
  const params = new URLSearchParams(query);
  const epoch = params.get('epoch');
  const seqText = params.get('seq');
  const topicsText = params.get('topics');
  if (topicsText !== null && topicsText !== '1') return 'bad';
  const topics = topicsText === '1';
  if (epoch === null && seqText === null) return { position: undefined, topics };
  if (epoch === null || seqText === null || epoch === '' || epoch.length > 64) return 'bad';
  const seq = Number(seqText);
  if (!/^\d+$/.test(seqText) || !Number.isSafeInteger(seq)) return 'bad';
  return { position: { epoch, seq }, topics };
}
