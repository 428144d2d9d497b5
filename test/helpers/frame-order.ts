import type { Frame } from './socket.js';

// Checks of docs/protocol.md §2 over the frames one raw socket received, in order. Each returns
// what broke the rule (empty when nothing did), worded for an assertion message.

/** Frame types of docs/protocol.md §2, as the tests spell them. */
export const Frames = { Welcome: 0, Message: 1, TopicMessage: 2, TopicWelcome: 4, TopicLeft: 6 } as const;

/** A compact, bounded rendering of frames for failure messages (long data strings shortened). */
export function show(frames: readonly Frame[], limit = 24): string {
  const shown = frames.slice(0, limit).map((f) => JSON.stringify(f.map((v) => (typeof v === 'string' && v.length > 40 ? `${v.slice(0, 12)}…(${v.length})` : v))));
  return `[${shown.join(', ')}${frames.length > limit ? `, … ${frames.length - limit} more` : ''}]`;
}

/** Frames that came before the first welcome: none may (protocol §2, "The welcome is the first frame"). */
export function framesBeforeWelcome(frames: readonly Frame[]): Frame[] {
  const first = frames.findIndex((f) => f[0] === Frames.Welcome);
  return first < 0 ? [...frames] : frames.slice(0, first);
}

/**
 * Channel messages must follow each welcome's seq one by one: no gap, no duplicate, no reorder
 * (protocol §2). Returns one line per violation.
 */
export function channelSeqViolations(frames: readonly Frame[]): string[] {
  const violations: string[] = [];
  let expected: number | undefined;
  frames.forEach((frame, i) => {
    if (frame[0] === Frames.Welcome) expected = (frame[2] as number) + 1;
    else if (frame[0] === Frames.Message) {
      const seq = frame[1] as number;
      if (expected === undefined) violations.push(`frame ${i} ${JSON.stringify(frame.slice(0, 2))} before any welcome`);
      else if (seq !== expected) violations.push(`frame ${i}: seq ${seq} where ${expected} was due`);
      expected = seq + 1;
    }
  });
  return violations;
}

/**
 * Topic messages must come after their topic's welcome and follow its seq one by one, and none
 * may come after a `[6, topic]` until a new welcome (protocol §2, Topics). One line per violation.
 */
export function topicSeqViolations(frames: readonly Frame[]): string[] {
  const violations: string[] = [];
  // The next seq due per topic; absent while the socket is not (or no longer) welcomed into it.
  const due = new Map<string, number>();
  frames.forEach((frame, i) => {
    const topic = frame[1] as string;
    if (frame[0] === Frames.TopicWelcome) due.set(topic, (frame[3] as number) + 1);
    else if (frame[0] === Frames.TopicLeft) due.delete(topic);
    else if (frame[0] === Frames.TopicMessage) {
      const seq = frame[2] as number;
      const expected = due.get(topic);
      if (expected === undefined) violations.push(`frame ${i} ${JSON.stringify(frame.slice(0, 3))} without a topic welcome in force`);
      else if (seq !== expected) violations.push(`frame ${i}: ${topic} seq ${seq} where ${expected} was due`);
      if (expected !== undefined) due.set(topic, seq + 1);
    }
  });
  return violations;
}

/** The frames about one topic (messages, welcomes, lefts) in the order they came. */
export function topicTrail(frames: readonly Frame[], topic: string): Frame[] {
  return frames.filter((f) => (f[0] === Frames.TopicMessage || f[0] === Frames.TopicWelcome || f[0] === Frames.TopicLeft) && f[1] === topic);
}

/** What the frames tell the client about its membership of `topic` at the end. */
export function topicStanding(frames: readonly Frame[], topic: string): 'member' | 'left' | 'never' {
  let standing: 'member' | 'left' | 'never' = 'never';
  for (const frame of topicTrail(frames, topic)) {
    if (frame[0] === Frames.TopicWelcome) standing = 'member';
    else if (frame[0] === Frames.TopicLeft) standing = 'left';
  }
  return standing;
}

/** Topic welcomes and messages of `topic` after its first `[6, topic]`: none may come (protocol §2). */
export function framesAfterLeft(frames: readonly Frame[], topic: string): Frame[] {
  const trail = topicTrail(frames, topic);
  const left = trail.findIndex((f) => f[0] === Frames.TopicLeft);
  return left < 0 ? [] : trail.slice(left + 1).filter((f) => f[0] !== Frames.TopicLeft);
}

const isSeq = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isText = (v: unknown): boolean => typeof v === 'string';
const isName = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

/** The layout of every server → client frame type (protocol §2). Unknown types are not judged. */
const LAYOUTS: Record<number, readonly ((v: unknown) => boolean)[]> = {
  [Frames.Welcome]: [isName, isSeq, (v) => typeof v === 'boolean'],
  [Frames.Message]: [isSeq, isText],
  [Frames.TopicMessage]: [isName, isSeq, isText],
  [Frames.TopicWelcome]: [isName, isName, isSeq, (v) => typeof v === 'boolean'],
  [Frames.TopicLeft]: [isName],
};

/** Frames whose fields do not have the documented types and count. */
export function layoutViolations(frames: readonly Frame[]): Frame[] {
  return frames.filter((frame) => {
    const layout = typeof frame[0] === 'number' ? LAYOUTS[frame[0]] : undefined;
    if (layout === undefined) return frame[0] === 'binary';
    return frame.length !== layout.length + 1 || layout.some((ok, i) => !ok(frame[i + 1]));
  });
}
