/**
 * Receiver generator process: holds many sockets to one target and counts what arrives on each —
 * per-socket counts, duplicates, server seq continuity (channeld) and delivery latency from the send
 * timestamp inside each payload. Speaks channeld's protocol, Socket.IO (engine.io v4) and
 * Centrifugo's JSON client protocol. Driven by the coordinator over IPC (bench/ipc.ts).
 */
import type { Endpoint, OpenReply, Protocol, ReceiverReport, ReceiverRequest, SocketSpec } from '../ipc.js';
import { Histogram, monotonicUs } from './histogram.js';
import { parsePayload, type ParsedPayload } from './payload.js';
import { RawWs, type RawWsHandler } from './raw-ws.js';
import { serveRequests } from './serve.js';

const QUOTE = 0x22;
const ZERO = 0x30;
const OPEN_TIMEOUT_MS = 60_000;
const PROGRESS_INTERVAL_MS = 25;
const TOPIC_NONE = -1;

let kind: Protocol = 'channeld';
let sockets: RawWs[] = [];
let specs: readonly SocketSpec[] = [];
let received = new Uint32Array(0);
let lastSeq = new Float64Array(0);
let topicSeq = new Float64Array(0);
let welcomed = new Uint8Array(0);
let topicWelcomed = new Uint8Array(0);
let seen: Uint8Array[] = [];
let topicWelcomes = 0;
let closing = false;

let delivered = 0;
let duplicates = 0;
let seqErrors = 0;
let misrouted = 0;
let unparsed = 0;
let unexpectedCloses = 0;
let firstProblem = '';
const latency = new Histogram();
const payload: ParsedPayload = { clientIdx: 0, n: 0, sentAtUs: 0 };
let wireBytesAtPhase = 0;
/** The topic (Centrifugo: channel) of the fan-out, named by `await-topic`; '' before. */
let currentTopic = Buffer.alloc(0);
let onWelcome: (slot: number) => void = () => undefined;
let onTopicWelcome: () => void = () => undefined;

function problem(text: string): void {
  if (firstProblem === '') firstProblem = text;
}

/** Reads a non-negative integer at `pos`; `intEnd` is set to the first byte after it. */
let intEnd = 0;
function readUint(buf: Buffer, pos: number, end: number): number {
  let value = 0;
  let i = pos;
  for (; i < end; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
  }
  intEnd = i === pos ? -1 : i;
  return value;
}

/** Counts one payload for `slot`; `expectedClient` is -1 for topic messages. */
function deliver(slot: number, buf: Buffer, pos: number, end: number, nowUs: number, expectedClient: number): void {
  if (!parsePayload(buf, pos, end, payload) || payload.n < 0 || payload.n > 50_000_000) {
    unparsed++;
    problem(`unparsed payload on socket ${slot}: ${buf.toString('utf8', pos, Math.min(end, pos + 60))}`);
    return;
  }
  if (payload.clientIdx !== expectedClient) {
    misrouted++;
    problem(`socket ${slot} (client ${expectedClient}) got a message for client ${payload.clientIdx}`);
    return;
  }
  let bits = seen[slot]!;
  if (payload.n >= bits.length) {
    const grown = new Uint8Array(Math.max(payload.n + 1, bits.length * 2, 64));
    grown.set(bits);
    seen[slot] = bits = grown;
  }
  if (bits[payload.n] !== 0) {
    duplicates++;
    problem(`socket ${slot} got message n=${payload.n} twice`);
    return;
  }
  bits[payload.n] = 1;
  received[slot]!++;
  delivered++;
  latency.record(nowUs - payload.sentAtUs);
}

function checkSeq(table: Float64Array, slot: number, seq: number, what: string): void {
  const expected = table[slot]! + 1;
  if (seq !== expected) {
    seqErrors++;
    problem(`socket ${slot}: ${what} seq ${seq}, expected ${expected}`);
  }
  table[slot] = seq;
}

/** channeld frames (docs/protocol.md §2): only the bytes needed are read. */
function onChanneldFrame(slot: number, buf: Buffer, start: number, end: number, nowUs: number): void {
  const type = buf[start + 1]! - ZERO;
  if (type === 1) {
    // [1,seq,"payload"]
    const seq = readUint(buf, start + 3, end);
    if (intEnd < 0) return void unparsed++;
    checkSeq(lastSeq, slot, seq, 'channel');
    deliver(slot, buf, intEnd + 2, end, nowUs, specs[slot]!.clientIdx);
  } else if (type === 2) {
    // [2,"topic",seq,"payload"]
    const close = buf.indexOf(QUOTE, start + 4);
    const seq = readUint(buf, close + 2, end);
    if (close < 0 || intEnd < 0) return void unparsed++;
    checkSeq(topicSeq, slot, seq, 'topic');
    deliver(slot, buf, intEnd + 2, end, nowUs, -1);
  } else if (type === 0) {
    // [0,"epoch",seq,recovered]
    const close = buf.indexOf(QUOTE, start + 4);
    lastSeq[slot] = readUint(buf, close + 2, end);
    if (welcomed[slot] === 0) {
      welcomed[slot] = 1;
      onWelcome(slot);
    }
  } else if (type === 4) {
    // [4,"topic","epoch",seq,recovered]
    const topicClose = buf.indexOf(QUOTE, start + 4);
    const epochClose = buf.indexOf(QUOTE, topicClose + 3);
    topicSeq[slot] = readUint(buf, epochClose + 2, end);
    if (topicWelcomed[slot] === 0) {
      topicWelcomed[slot] = 1;
      topicWelcomes++;
      onTopicWelcome();
    }
  }
}

/** Socket.IO over raw engine.io v4 packets: `0{…}` open, `2` ping, `40…` connected, `42[…]` event. */
function onSocketIoPacket(ws: RawWs, slot: number, buf: Buffer, start: number, end: number, nowUs: number): void {
  const engineType = buf[start]!;
  if (engineType === 0x34 /* '4' message */) {
    const ioType = buf[start + 1]!;
    if (ioType === 0x32 /* '2' event */) {
      const name = buf[start + 4]!;
      const next = buf[start + 5]!;
      if (name === 0x6d /* m */) {
        deliver(slot, buf, start + 8, end, nowUs, specs[slot]!.clientIdx);
      } else if (name === 0x74 /* t */ && next === QUOTE) {
        const close = buf.indexOf(QUOTE, start + 8);
        deliver(slot, buf, close + 3, end, nowUs, -1);
      } else if (name === 0x77 /* w */ && welcomed[slot] === 0) {
        welcomed[slot] = 1;
        onWelcome(slot);
      } else if (name === 0x74 && next === 0x77 /* tw */ && topicWelcomed[slot] === 0) {
        topicWelcomed[slot] = 1;
        topicWelcomes++;
        onTopicWelcome();
      }
    } else if (ioType === 0x34 /* '4' connect error */) {
      ws.destroy();
      socketEnded(slot, `Socket.IO refused the connection: ${buf.toString('utf8', start, end)}`);
    }
  } else if (engineType === 0x30 /* '0' open */) {
    ws.sendText(`40${JSON.stringify({ token: specs[slot]!.token })}`);
  } else if (engineType === 0x32 /* '2' ping */) {
    ws.sendText('3');
  }
}

const NEWLINE = 0x0a;
const CENTRIFUGO_CONNECT_REPLY = Buffer.from('{"id":1,');
const CENTRIFUGO_PUSH = Buffer.from('{"push":{');
const CENTRIFUGO_CHANNEL = Buffer.from('"channel":"');
const CENTRIFUGO_PUB = Buffer.from('"pub":{');
const CENTRIFUGO_DATA = Buffer.from('"data":"');
const CENTRIFUGO_SUBSCRIBE = Buffer.from('"subscribe":{');
const CENTRIFUGO_DISCONNECT = Buffer.from('"disconnect":{');

function startsWith(buf: Buffer, pos: number, end: number, prefix: Buffer): boolean {
  return end - pos >= prefix.length && buf.compare(prefix, 0, prefix.length, pos, pos + prefix.length) === 0;
}

/** The channel name of a push at `pos` equals `name`. */
function channelIs(buf: Buffer, pos: number, end: number, name: Buffer): boolean {
  const at = buf.indexOf(CENTRIFUGO_CHANNEL, pos);
  if (at < 0 || at >= end) return false;
  const start = at + CENTRIFUGO_CHANNEL.length;
  return name.length > 0 && start + name.length < end && buf[start + name.length] === QUOTE && buf.compare(name, 0, name.length, start, start + name.length) === 0;
}

/**
 * Centrifugo's JSON protocol (v2): replies and pushes, several newline-separated in one frame.
 * `{}` is a ping (answered with `{}`), `{"id":1,…}` the reply to our connect command,
 * `{"push":{"channel":…,"pub":{"data":"<payload>"…}}}` a publication, `"subscribe"` the push of a
 * server-side subscription (the topic welcome), `"disconnect"` the server ending the connection.
 */
function onCentrifugoFrame(ws: RawWs, slot: number, buf: Buffer, start: number, end: number, nowUs: number): void {
  let pos = start;
  while (pos < end) {
    let lineEnd = buf.indexOf(NEWLINE, pos);
    if (lineEnd < 0 || lineEnd > end) lineEnd = end;
    onCentrifugoLine(ws, slot, buf, pos, lineEnd, nowUs);
    pos = lineEnd + 1;
  }
}

function onCentrifugoLine(ws: RawWs, slot: number, buf: Buffer, pos: number, end: number, nowUs: number): void {
  if (end - pos === 2 && buf[pos] === 0x7b && buf[pos + 1] === 0x7d) {
    ws.sendText('{}');
    return;
  }
  if (startsWith(buf, pos, end, CENTRIFUGO_PUSH)) {
    const pub = buf.indexOf(CENTRIFUGO_PUB, pos);
    if (pub >= 0 && pub < end) {
      const data = buf.indexOf(CENTRIFUGO_DATA, pub);
      if (data < 0 || data >= end) return void unparsed++;
      const topic = channelIs(buf, pos, pub, currentTopic);
      deliver(slot, buf, data + CENTRIFUGO_DATA.length, end, nowUs, topic ? -1 : specs[slot]!.clientIdx);
      return;
    }
    const sub = buf.indexOf(CENTRIFUGO_SUBSCRIBE, pos);
    if (sub >= 0 && sub < end && channelIs(buf, pos, sub, currentTopic) && topicWelcomed[slot] === 0) {
      topicWelcomed[slot] = 1;
      topicWelcomes++;
      onTopicWelcome();
      return;
    }
    const bye = buf.indexOf(CENTRIFUGO_DISCONNECT, pos);
    if (bye >= 0 && bye < end) {
      ws.destroy();
      socketEnded(slot, `Centrifugo disconnected the client: ${buf.toString('utf8', pos, Math.min(end, pos + 200))}`);
    }
    return;
  }
  if (startsWith(buf, pos, end, CENTRIFUGO_CONNECT_REPLY)) {
    if (buf.indexOf('"connect":', pos) < 0) {
      ws.destroy();
      socketEnded(slot, `Centrifugo refused the connection: ${buf.toString('utf8', pos, Math.min(end, pos + 200))}`);
      return;
    }
    if (welcomed[slot] === 0) {
      welcomed[slot] = 1;
      onWelcome(slot);
    }
  }
}

let onEarlyEnd: (slot: number, why: string) => void = () => undefined;

function socketEnded(slot: number, why: string): void {
  if (closing) return;
  if (welcomed[slot] === 0) {
    onEarlyEnd(slot, why);
    return;
  }
  unexpectedCloses++;
  problem(`socket ${slot} ended: ${why}`);
}

const handler: RawWsHandler = {
  onUpgraded(ws) {
    // Centrifugo's client speaks first: a connect command with the JWT.
    if (kind === 'centrifugo') ws.sendText(`{"id":1,"connect":{"token":${JSON.stringify(specs[ws.slot]!.token)},"name":"bench"}}`);
  },
  onText(ws, buf, start, end, nowUs) {
    if (kind === 'channeld') onChanneldFrame(ws.slot, buf, start, end, nowUs);
    else if (kind === 'centrifugo') onCentrifugoFrame(ws, ws.slot, buf, start, end, nowUs);
    else onSocketIoPacket(ws, ws.slot, buf, start, end, nowUs);
  },
  onEnd(ws, why) {
    socketEnded(ws.slot, why);
  },
};

function resetPhase(): void {
  delivered = 0;
  duplicates = 0;
  seqErrors = 0;
  misrouted = 0;
  unparsed = 0;
  firstProblem = '';
  received.fill(0);
  for (let i = 0; i < seen.length; i++) seen[i] = new Uint8Array(64);
  latency.reset();
  wireBytesAtPhase = wireBytesNow();
}

function wireBytesNow(): number {
  let total = 0;
  for (const ws of sockets) if (ws !== undefined) total += ws.wireBytes;
  return total;
}

async function open(endpoint: Endpoint, list: readonly SocketSpec[], concurrency: number, topic: string): Promise<OpenReply> {
  closing = false;
  kind = endpoint.kind;
  specs = list;
  currentTopic = Buffer.from(topic);
  const n = list.length;
  sockets = new Array<RawWs>(n);
  received = new Uint32Array(n);
  lastSeq = new Float64Array(n);
  topicSeq = new Float64Array(n).fill(TOPIC_NONE);
  welcomed = new Uint8Array(n);
  topicWelcomed = new Uint8Array(n);
  seen = Array.from({ length: n }, () => new Uint8Array(64));
  topicWelcomes = 0;
  unexpectedCloses = 0;
  resetPhase();
  const connectTimes = new Histogram();
  const startedAt = new Float64Array(n);
  let next = 0;
  let settled = 0;
  let opened = 0;
  let failed = 0;
  let droppedAfterUpgrade = 0;
  let firstError = '';
  const reply = (): OpenReply => ({ opened, failed, droppedAfterUpgrade, firstError, connectHistogram: connectTimes.toData() });
  return new Promise((resolve) => {
    const timers = new Map<number, NodeJS.Timeout>();
    const finish = (slot: number): void => {
      clearTimeout(timers.get(slot));
      timers.delete(slot);
      settled++;
      if (settled === n) resolve(reply());
      else startNext();
    };
    onWelcome = (slot) => {
      opened++;
      delivered++;
      connectTimes.record(monotonicUs() - startedAt[slot]!);
      finish(slot);
    };
    onEarlyEnd = (slot, why) => {
      if (welcomed[slot] !== 0) return;
      // A socket the server drops right after its 101 is a server bug (issue 8, defect 1), not
      // something to paper over with a reconnect: it fails the run, and says so on the spot.
      if (why.includes('after the upgrade and 0 frames, without a close frame')) {
        droppedAfterUpgrade++;
        process.stderr.write(`[receiver] FAILURE: socket ${slot} was dropped right after its 101, before its welcome, without a close frame\n`);
      }
      welcomed[slot] = 2; // settled as failed
      failed++;
      if (firstError === '') firstError = `socket ${slot}: ${why}`;
      finish(slot);
    };
    const startNext = (): void => {
      if (next >= n) return;
      const slot = next++;
      const spec = list[slot]!;
      startedAt[slot] = monotonicUs();
      const deflate = endpoint.deflate === true;
      sockets[slot] =
        kind === 'channeld'
          ? new RawWs(endpoint.host, endpoint.httpPort, '/_ah/channel/ws', `channeld.v1, token.${spec.token}`, handler, slot, monotonicUs, deflate)
          : kind === 'centrifugo'
            ? new RawWs(endpoint.host, endpoint.httpPort, '/connection/websocket', undefined, handler, slot, monotonicUs, deflate)
            : new RawWs(endpoint.host, endpoint.httpPort, '/socket.io/?EIO=4&transport=websocket', undefined, handler, slot, monotonicUs, deflate);
      timers.set(
        slot,
        setTimeout(() => {
          sockets[slot]!.destroy();
          onEarlyEnd(slot, `no welcome within ${OPEN_TIMEOUT_MS} ms`);
        }, OPEN_TIMEOUT_MS),
      );
    };
    if (n === 0) resolve(reply());
    for (let i = 0; i < Math.min(concurrency, n); i++) startNext();
  });
}

function awaitTopic(topic: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const live = (): number => sockets.filter((_, slot) => welcomed[slot] === 1).length;
    const timer = setTimeout(() => {
      onTopicWelcome = () => undefined;
      reject(new Error(`only ${topicWelcomes} of ${live()} sockets got the welcome of topic ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    onTopicWelcome = () => {
      if (topicWelcomes < sockets.length) return;
      clearTimeout(timer);
      onTopicWelcome = () => undefined;
      resolve();
    };
    onTopicWelcome();
  });
}

function report(): ReceiverReport {
  return {
    received: Array.from(received),
    duplicates,
    seqErrors,
    misrouted,
    unparsed,
    unexpectedCloses,
    firstProblem,
    latency: latency.toData(),
    wireBytes: wireBytesNow() - wireBytesAtPhase,
  };
}

let lastSent = -1;
setInterval(() => {
  if (delivered === lastSent) return;
  lastSent = delivered;
  process.send?.({ type: 'progress', delivered });
}, PROGRESS_INTERVAL_MS).unref();

serveRequests<ReceiverRequest>(async (request) => {
  switch (request.type) {
    case 'open':
      return open(request.endpoint, request.sockets, request.concurrency, request.topic ?? '');
    case 'await-topic':
      return awaitTopic(request.topic, request.timeoutMs);
    case 'phase':
      resetPhase();
      lastSent = -1;
      return undefined;
    case 'report':
      return report();
    case 'close':
      closing = true;
      for (const ws of sockets) ws?.destroy();
      sockets = [];
      return undefined;
  }
});
