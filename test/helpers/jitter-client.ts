import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { FallbackWire, httpBaseOf, type OpenBody } from './fallback-wire.js';

/** How a jitter client's frames travel: a WebSocket, or the fallback transport (docs/protocol.md §5). */
export type JitterTransport = 'websocket' | 'sse' | 'poll';

/** What every jitter client reports to its run: each break of the exactly-once, in-order rule. */
export interface JitterLedger {
  violation(clientIdx: number, text: string): void;
  /** A topic frame the server sent again (allowed by docs/protocol.md; the client drops it). */
  topicWireDuplicate(): void;
  /** Milliseconds from a reconnect to having every message acknowledged before it. */
  caughtUp(ms: number): void;
  /** A reconnect that was cut again before it had caught up. */
  interrupted(): void;
}

/** Where the run's sender stands for one client: the highest seqs SendMessage/Broadcast answered OK. */
export interface AckedPositions {
  channel(clientIdx: number): number;
  topic(): number;
}

export interface JitterClientOptions {
  readonly clientIdx: number;
  readonly token: string;
  readonly topic: string;
  readonly wsUrls: readonly string[];
  readonly ledger: JitterLedger;
  readonly acked: AckedPositions;
  /** Milliseconds until the next forced drop of a socket just opened; undefined: no more drops. */
  readonly nextDropMs: () => number | undefined;
  readonly nextGapMs: () => number;
  /** @default 'websocket' */
  readonly transport?: JitterTransport;
}

/**
 * One browser-like client that is cut off again and again: its TCP connection is destroyed (no
 * close frame, as a lost network would), it stays offline for a gap, then reconnects to the next
 * node with its last channel seq (`?epoch=&seq=`) and topic position (`topics=1` + `[5, …]`). It
 * checks every frame against docs/protocol.md: channel seqs +1 each, across sockets; topic frames
 * held until the topic welcome and delivered in seq order; no `recovered: false`.
 */
export class JitterClient {
  /** Channel messages delivered, in order: seq → payload. */
  readonly channel = new Map<number, string>();
  /** Channel frames received per seq, duplicates included. */
  readonly channelFrames = new Map<number, number>();
  /** Channel seqs that arrived after a later seq, or after a gap. */
  readonly outOfOrder = new Set<number>();
  /** Topic messages delivered, in order: seq → payload. */
  readonly topicDelivered = new Map<number, string>();
  reconnects = 0;
  serverCloses = 0;
  private epoch: string | undefined;
  private lastSeq = 0;
  private topicEpoch: string | undefined;
  private topicLast = 0;
  private heldTopic = new Map<number, string>();
  private ackedSeq = 0;
  private ackedTopic = 0;
  private node: number;
  private ws: WebSocket | undefined;
  private tcp: Socket | undefined;
  /** The fallback connection, when the client does not use WebSockets. */
  private wire: FallbackWire | undefined;
  private welcomed = false;
  private topicWelcomed = false;
  private catchUp: { startedMs: number; channel: number; topic: number } | undefined;
  private dropTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private onProgress: () => void = () => undefined;

  constructor(private readonly o: JitterClientOptions) {
    this.node = o.clientIdx % o.wsUrls.length;
  }

  get lastChannelSeq(): number {
    return this.lastSeq;
  }

  get lastTopicSeq(): number {
    return this.topicLast;
  }

  get heldTopicFrames(): number {
    return this.heldTopic.size;
  }

  get online(): boolean {
    return this.welcomed && this.topicWelcomed;
  }

  /** Opens the first socket (a fresh open) and resolves once both welcomes came. */
  start(): Promise<void> {
    this.open();
    return this.until(() => this.online, 'the first welcomes');
  }

  /** Resolves once `predicate` holds; re-checked after every frame. */
  until(predicate: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onProgress = () => undefined;
        reject(new Error(`client ${this.o.clientIdx}: timed out waiting for ${what} (channel ${this.lastSeq}, topic ${this.topicLast}, online ${this.online})`));
      }, timeoutMs);
      this.onProgress = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.onProgress = () => undefined;
        resolve();
      };
      this.onProgress();
    });
  }

  /** Sends acks for what was delivered since the last call (the protocol's coalesced acks). */
  ack(): void {
    const wire = this.wire;
    if (wire !== undefined) {
      if (!this.welcomed) return;
      const frames: unknown[] = [];
      if (this.lastSeq > this.ackedSeq) frames.push([3, (this.ackedSeq = this.lastSeq)]);
      if (this.topicWelcomed && this.topicLast > this.ackedTopic) frames.push([3, (this.ackedTopic = this.topicLast), this.o.topic]);
      if (frames.length > 0) void wire.send(frames);
      return;
    }
    if (this.ws?.readyState !== WebSocket.OPEN || !this.welcomed) return;
    if (this.lastSeq > this.ackedSeq) this.ws.send(JSON.stringify([3, (this.ackedSeq = this.lastSeq)]));
    if (this.topicWelcomed && this.topicLast > this.ackedTopic) this.ws.send(JSON.stringify([3, (this.ackedTopic = this.topicLast), this.o.topic]));
  }

  /** No more drops; a client that is offline reconnects when its gap ends. */
  stopDropping(): void {
    clearTimeout(this.dropTimer);
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.dropTimer);
    clearTimeout(this.reconnectTimer);
    this.ws?.terminate();
    this.wire?.cut();
  }

  private open(): void {
    if ((this.o.transport ?? 'websocket') !== 'websocket') return this.openFallback();
    const resume = this.epoch !== undefined;
    const params = new URLSearchParams();
    if (resume) {
      params.set('epoch', this.epoch!);
      params.set('seq', String(this.lastSeq));
      if (this.topicEpoch !== undefined) params.set('topics', '1');
    }
    const query = params.size > 0 ? `?${params}` : '';
    const ws = new WebSocket(this.o.wsUrls[this.node]! + query, ['channeld.v1', `token.${this.o.token}`], { perMessageDeflate: false });
    this.ws = ws;
    this.tcp = undefined;
    this.welcomed = false;
    this.topicWelcomed = false;
    this.heldTopic = new Map();
    this.ackedSeq = this.lastSeq;
    this.ackedTopic = this.topicLast;
    this.catchUp = resume ? { startedMs: performance.now(), channel: this.o.acked.channel(this.o.clientIdx), topic: this.o.acked.topic() } : undefined;
    ws.once('upgrade', (res: IncomingMessage) => (this.tcp = res.socket as Socket));
    ws.once('open', () => {
      if (resume && this.topicEpoch !== undefined) ws.send(JSON.stringify([5, [[this.o.topic, this.topicEpoch, this.topicLast]]]));
    });
    ws.on('message', (data, isBinary) => {
      if (ws !== this.ws) return;
      if (isBinary) return this.o.ledger.violation(this.o.clientIdx, 'a binary frame');
      this.onFrame(JSON.parse(String(data)) as unknown[]);
      this.onProgress();
    });
    ws.once('unexpected-response', (_req, res) => {
      this.o.ledger.violation(this.o.clientIdx, `upgrade refused: ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', () => undefined);
    ws.once('close', (code, reason) => {
      if (ws !== this.ws || this.stopped) return;
      // Not a drop of ours: the server (or the kernel) ended this socket.
      this.serverCloses++;
      if (code !== 4001) this.o.ledger.violation(this.o.clientIdx, `socket closed by the server: ${code} ${reason.toString()}`);
      this.offline();
    });
    const dropMs = this.o.nextDropMs();
    if (dropMs !== undefined) this.dropTimer = setTimeout(() => this.drop(), dropMs);
  }

  /** The same over the fallback: the resume position in the open's body, the topic resume frame posted first. */
  private openFallback(): void {
    const resume = this.epoch !== undefined;
    const topics = resume && this.topicEpoch !== undefined;
    const body: OpenBody = resume ? { token: this.o.token, epoch: this.epoch!, seq: this.lastSeq, ...(topics ? { topics: true as const } : {}) } : { token: this.o.token };
    this.resetForOpen(resume);
    const topicResume = [5, [[this.o.topic, this.topicEpoch, this.topicLast]]];
    const wire: FallbackWire = new FallbackWire(httpBaseOf(this.o.wsUrls[this.node]!), this.o.transport as 'sse' | 'poll', body, {
      open: () => {
        if (topics) void wire.send([topicResume]);
      },
      frame: (frame) => {
        if (wire !== this.wire) return;
        this.onFrame(frame);
        this.onProgress();
      },
      close: (code, reason) => {
        if (wire !== this.wire || this.stopped) return;
        this.serverCloses++;
        if (code !== 4001) this.o.ledger.violation(this.o.clientIdx, `fallback connection closed by the server: ${code} ${reason}`);
        this.offline();
      },
    });
    this.wire = wire;
    const dropMs = this.o.nextDropMs();
    if (dropMs !== undefined) this.dropTimer = setTimeout(() => this.drop(), dropMs);
  }

  private resetForOpen(resume: boolean): void {
    this.ws = undefined;
    this.tcp = undefined;
    this.welcomed = false;
    this.topicWelcomed = false;
    this.heldTopic = new Map();
    this.ackedSeq = this.lastSeq;
    this.ackedTopic = this.topicLast;
    this.catchUp = resume ? { startedMs: performance.now(), channel: this.o.acked.channel(this.o.clientIdx), topic: this.o.acked.topic() } : undefined;
  }

  /** Cuts the TCP connection under the WebSocket: no close frame reaches the server. */
  private drop(): void {
    const wire = this.wire;
    if (wire !== undefined) {
      if (this.stopped) return;
      this.wire = undefined;
      wire.cut();
      this.offline();
      return;
    }
    const ws = this.ws;
    if (ws === undefined || this.stopped) return;
    this.ws = undefined;
    if (this.tcp !== undefined) this.tcp.destroy();
    else ws.terminate(); // still in the handshake: the same, seen from the server
    this.offline();
  }

  private offline(): void {
    clearTimeout(this.dropTimer);
    this.ws = undefined;
    this.wire = undefined;
    if (this.catchUp !== undefined) this.o.ledger.interrupted();
    this.catchUp = undefined;
    this.welcomed = false;
    this.topicWelcomed = false;
    this.node = (this.node + 1) % this.o.wsUrls.length;
    this.reconnectTimer = setTimeout(() => {
      this.reconnects++;
      this.open();
    }, this.o.nextGapMs());
  }

  private onFrame(frame: unknown[]): void {
    const bad = (text: string): void => this.o.ledger.violation(this.o.clientIdx, text);
    switch (frame[0]) {
      case 0: {
        const [, epoch, seq, recovered] = frame as [0, string, number, boolean];
        if (this.welcomed) return bad(`a second welcome on one socket: ${JSON.stringify(frame)}`);
        this.welcomed = true;
        if (this.epoch === undefined) {
          this.epoch = epoch;
          this.lastSeq = seq;
        } else if (!recovered || epoch !== this.epoch) {
          bad(`not recovered: resumed at ${this.epoch}/${this.lastSeq}, welcomed with ${JSON.stringify(frame)}`);
        } else if (seq !== this.lastSeq) {
          bad(`welcomed at seq ${seq} with recovered: true, but the client resumed from ${this.lastSeq}`);
        }
        break;
      }
      case 1: {
        const [, seq, data] = frame as [1, number, string];
        if (!this.welcomed) return bad(`channel message ${seq} before the welcome`);
        const frames = this.channelFrames.get(seq) ?? 0;
        this.channelFrames.set(seq, frames + 1);
        if (seq <= this.lastSeq) {
          if (frames === 0) this.outOfOrder.add(seq);
          return bad(`channel seq ${seq} ${frames === 0 ? 'late' : 'again'} (delivered up to ${this.lastSeq})`);
        }
        if (seq !== this.lastSeq + 1) {
          this.outOfOrder.add(seq);
          bad(`channel gap: seq ${seq} after ${this.lastSeq}`);
        }
        this.lastSeq = seq;
        this.channel.set(seq, data);
        break;
      }
      case 2: {
        const [, topic, seq, data] = frame as [2, string, number, string];
        if (topic !== this.o.topic) return bad(`a message of topic ${topic}`);
        if (this.topicWelcomed && seq <= this.topicLast) return this.o.ledger.topicWireDuplicate();
        this.heldTopic.set(seq, data);
        this.flushTopic();
        break;
      }
      case 4: {
        const [, topic, epoch, seq, recovered] = frame as [4, string, string, number, boolean];
        if (topic !== this.o.topic) return bad(`a welcome of topic ${topic}`);
        if (!this.welcomed) return bad('a topic welcome before the welcome');
        if (this.topicEpoch === undefined) {
          this.topicEpoch = epoch;
          this.topicLast = seq;
        } else if (!recovered || epoch !== this.topicEpoch) {
          bad(`topic not recovered: resumed at ${this.topicEpoch}/${this.topicLast}, welcomed with ${JSON.stringify(frame)}`);
        } else if (seq > this.topicLast) {
          bad(`topic welcome at seq ${seq} with recovered: true, but the client had delivered up to ${this.topicLast}`);
        }
        this.topicWelcomed = true;
        for (const held of this.heldTopic.keys()) {
          if (held > this.topicLast) continue;
          this.heldTopic.delete(held);
          this.o.ledger.topicWireDuplicate();
        }
        this.flushTopic();
        break;
      }
      case 6:
        bad(`left topic ${String(frame[1])}`);
        break;
      default:
        bad(`unknown frame ${JSON.stringify(frame).slice(0, 100)}`);
    }
    this.checkCaughtUp();
  }

  private flushTopic(): void {
    if (!this.topicWelcomed) return;
    for (let next = this.heldTopic.get(this.topicLast + 1); next !== undefined; next = this.heldTopic.get(this.topicLast + 1)) {
      this.heldTopic.delete(++this.topicLast);
      this.topicDelivered.set(this.topicLast, next);
    }
  }

  private checkCaughtUp(): void {
    const c = this.catchUp;
    if (c === undefined || !this.online || this.lastSeq < c.channel || this.topicLast < c.topic) return;
    this.o.ledger.caughtUp(performance.now() - c.startedMs);
    this.catchUp = undefined;
  }
}
