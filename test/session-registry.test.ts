import test from 'ava';
import { pino } from 'pino';
import { Hub } from '../src/core/hub.js';
import { DISPLACED_GRACE_MS } from '../src/core/session-registry.js';
import { SessionEnd, type Session, type SessionSink } from '../src/core/session.js';
import { TokenAuthority } from '../src/core/tokens.js';
import { PresenceState, type ChannelMessage, type ClientId, type SocketId } from '../src/core/types.js';
import type { AttachResult } from '../src/engine/engine.js';
import { MemoryEngine } from '../src/engine/memory.js';
import { ManualClock } from './helpers/manual-clock.js';

const OPTIONS = { replayBufferSize: 100, replayWindowMs: 600_000, presenceHistorySize: 100 };

/** The memory engine with attach held at a gate (as a remote engine's round trip is), or failing. */
class GatedEngine extends MemoryEngine {
  gate: Promise<void> | undefined;
  /** 'before': refuse without applying; 'after': apply, then lose the reply. */
  fail: 'before' | 'after' | undefined;

  override async attach(clientId: ClientId, socketId: SocketId, issuedAtMs: number): Promise<AttachResult> {
    await this.gate;
    if (this.fail === 'before') throw new Error('injected: the engine is unreachable');
    const result = await super.attach(clientId, socketId, issuedAtMs);
    if (this.fail === 'after') throw new Error('injected: the reply was lost');
    return result;
  }
}

/** A socket as the gateway drives it: frames recorded, and a close reported back at once (as uWS does). */
class Socket implements SessionSink {
  readonly frames: unknown[][] = [];
  closedWith: SessionEnd | undefined;
  session: Session | undefined;
  constructor(private readonly hub: Hub) {}
  welcome(epoch: string, seq: number, recovered: boolean): void {
    this.frames.push([0, epoch, seq, recovered]);
  }
  message(message: ChannelMessage): boolean {
    this.frames.push([1, message.seq, message.data]);
    return true;
  }
  close(reason: SessionEnd): void {
    this.closedWith = reason;
    if (this.session !== undefined) this.hub.sessions.closed(this.session);
  }
  subscribe(): void {}
  unsubscribe(topic: string): void {
    this.frames.push([6, topic]);
  }
  topicWelcome(topic: string, epoch: string, seq: number, recovered: boolean): void {
    this.frames.push([4, topic, epoch, seq, recovered]);
  }
  topicMessage(topic: string, message: ChannelMessage): boolean {
    this.frames.push([2, topic, message.seq, message.data]);
    return true;
  }
  get data(): unknown[] {
    return this.frames.filter((f) => f[0] === 1).map((f) => f[2]);
  }
}

async function node(): Promise<{ hub: Hub; engine: GatedEngine; tokens: TokenAuthority; clock: ManualClock }> {
  const clock = new ManualClock();
  const engine = new GatedEngine(OPTIONS, clock);
  const tokens = TokenAuthority.withRandomSecret();
  const hub = new Hub({ engine, tokens, clock, logger: pino({ level: 'silent' }), presenceWatcherQueue: 100 });
  await hub.start();
  return { hub, engine, tokens, clock };
}

function open(n: { hub: Hub; tokens: TokenAuthority; clock: ManualClock }, clientId: string): Socket {
  const socket = new Socket(n.hub);
  const now = n.clock.nowMs();
  const check = n.hub.sessions.checkToken(n.tokens.mint(clientId, now, now + 600_000));
  if (!check.ok) throw new Error('token check failed');
  socket.session = n.hub.sessions.open(check.claims, socket);
  return socket;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('registry - CloseChannel ends every socket of the client id on the node, though each close is reported at once', async (t) => {
  const n = await node();
  const older = open(n, 'c');
  await settle();
  t.is(older.frames[0]?.[0], 0, 'the older socket is welcomed');
  let release!: () => void;
  n.engine.gate = new Promise((resolve) => (release = resolve));
  const newer = open(n, 'c');
  await n.hub.api.closeChannel('c');
  t.is(newer.closedWith, SessionEnd.ChannelClosed);
  t.is(older.closedWith, SessionEnd.ChannelClosed, 'the older socket is not left open on a closed channel');
  release();
  await settle();
  await n.hub.stop();
});

test('registry - while a newer socket attaches, and after its attach fails, the older socket keeps receiving', async (t) => {
  const n = await node();
  const older = open(n, 'd');
  await settle();
  let release!: () => void;
  n.engine.gate = new Promise((resolve) => (release = resolve));
  n.engine.fail = 'before';
  const newer = open(n, 'd');
  await n.hub.api.sendMessage({ target: { clientId: 'd' }, message: 'during', idempotencyKey: '' });
  release();
  await settle();
  t.is(newer.closedWith, SessionEnd.Shutdown, 'the newer socket is told to come back later');
  await n.hub.api.sendMessage({ target: { clientId: 'd' }, message: 'after', idempotencyKey: '' });
  await settle();
  t.is(older.closedWith, undefined);
  t.deepEqual(older.data, ['during', 'after']);
  await n.hub.stop();
});

test('registry - an attach that took effect but whose reply was lost is still detached when the socket closes', async (t) => {
  const n = await node();
  n.engine.fail = 'after';
  const socket = open(n, 'ghost');
  await settle();
  await settle();
  t.is(socket.closedWith, SessionEnd.Shutdown);
  await settle();
  t.false((await n.engine.presence(['ghost']))[0]!.connected, 'no client stays CONNECTED for good');
  const states = (await n.engine.presenceSince((await n.engine.presenceSnapshot()).cursor.replace(/\d+$/, '0'))) ?? [];
  t.deepEqual(
    states.map((c) => c.state),
    [PresenceState.Connected, PresenceState.Disconnected],
  );
  await n.hub.stop();
});

test('registry - a socket that opens while the node drains is closed and never registered', async (t) => {
  const n = await node();
  const draining = n.hub.drain();
  const late = open(n, 'late');
  t.is(late.closedWith, SessionEnd.Shutdown);
  await draining;
  t.is(n.hub.sessions.size, 0);
  await settle();
  t.false((await n.engine.presence(['late']))[0]!.connected);
  await n.hub.stop();
});

test('registry - a newer socket that closes at once gives the client id back: the first tab stays, catches up and is CONNECTED', async (t) => {
  const n = await node();
  const first = open(n, 'tab');
  await settle();
  const second = open(n, 'tab');
  await settle();
  t.is(second.frames[0]?.[0], 0, 'the newer socket was welcomed');
  await n.hub.api.sendMessage({ target: { clientId: 'tab' }, message: 'to the newer tab', idempotencyKey: '' });
  second.close(SessionEnd.Shutdown);
  await settle();
  await n.hub.api.sendMessage({ target: { clientId: 'tab' }, message: 'while nobody holds it', idempotencyKey: '' });
  t.is(first.closedWith, undefined, 'not closed before the grace');
  await new Promise((resolve) => setTimeout(resolve, DISPLACED_GRACE_MS + 50));
  for (let i = 0; i < 5; i++) await settle();
  t.is(first.closedWith, undefined, 'the first tab is not replaced by a socket that is gone');
  t.true((await n.engine.presence(['tab']))[0]!.connected);
  await n.hub.api.sendMessage({ target: { clientId: 'tab' }, message: 'after', idempotencyKey: '' });
  await settle();
  t.deepEqual(first.data, ['to the newer tab', 'while nobody holds it', 'after'], 'every message, once, in order');
  await n.hub.stop();
});

test('registry - a newer socket that stays replaces the first after the grace (4502)', async (t) => {
  const n = await node();
  const first = open(n, 'stay');
  await settle();
  const second = open(n, 'stay');
  await settle();
  t.is(first.closedWith, undefined);
  await new Promise((resolve) => setTimeout(resolve, DISPLACED_GRACE_MS + 50));
  for (let i = 0; i < 5; i++) await settle();
  t.is(first.closedWith, SessionEnd.Replaced);
  t.is(second.closedWith, undefined);
  await n.hub.stop();
});
