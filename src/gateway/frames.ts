import type { ChannelMessage, Epoch } from '../core/types.js';

/** Frame types of docs/protocol.md §2. */
export const FrameType = { Welcome: 0, Message: 1, Ack: 3 } as const;

export function encodeWelcome(epoch: Epoch, seq: number, recovered: boolean): string {
  return `[${FrameType.Welcome},${JSON.stringify(epoch)},${seq},${recovered}]`;
}

/** Built once per message; the data is the only part that needs escaping. */
export function encodeMessage(message: ChannelMessage): string {
  return `[${FrameType.Message},${message.seq},${JSON.stringify(message.data)}]`;
}

export type ClientFrame = { readonly type: typeof FrameType.Ack; readonly seq: number };

/** Decodes a frame from a browser; undefined for anything the protocol does not allow. */
export function decodeClientFrame(text: string): ClientFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2 || value[0] !== FrameType.Ack) return undefined;
  const seq: unknown = value[1];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return { type: FrameType.Ack, seq };
}

/** Reads the resume position from the upgrade query (`epoch` and `seq`, both or neither). */
export function parseResume(query: string): { epoch: Epoch; seq: number } | undefined | 'bad' {
  const params = new URLSearchParams(query);
  const epoch = params.get('epoch');
  const seqText = params.get('seq');
  if (epoch === null && seqText === null) return undefined;
  if (epoch === null || seqText === null || epoch === '' || epoch.length > 64) return 'bad';
  const seq = Number(seqText);
  if (!/^\d+$/.test(seqText) || !Number.isSafeInteger(seq)) return 'bad';
  return { epoch, seq };
}
