import test, { type ExecutionContext } from 'ava';
import type { Engine, EngineHandler } from '../../src/engine/engine.js';
import type { ChannelMessage, ClientId, Epoch, PresenceChange, SocketId, StreamPosition, Topic } from '../../src/core/types.js';
import { PresenceReason } from '../../src/core/types.js';

/** Records everything an engine reports, and lets a test wait for it. */
export class RecordingHandler implements EngineHandler {
  readonly messages: { clientId: ClientId; epoch: Epoch; message: ChannelMessage }[] = [];
  readonly displaced: { clientId: ClientId; socketId: SocketId }[] = [];
  readonly closed: ClientId[] = [];
  readonly presence: PresenceChange[] = [];
  readonly topicMessages: { topic: Topic; epoch: Epoch; message: ChannelMessage }[] = [];
  readonly joins: { clientId: ClientId; topic: Topic; position: StreamPosition }[] = [];
  readonly leaves: { clientId: ClientId; topic: Topic }[] = [];
  private waiters: (() => void)[] = [];

  onMessage(clientId: ClientId, epoch: Epoch, message: ChannelMessage): void {
    this.messages.push({ clientId, epoch, message });
    this.wake();
  }
  onDisplaced(clientId: ClientId, socketId: SocketId): void {
    this.displaced.push({ clientId, socketId });
    this.wake();
  }
  onChannelClosed(clientId: ClientId): void {
    this.closed.push(clientId);
    this.wake();
  }
  onPresence(change: PresenceChange): void {
    this.presence.push(change);
    this.wake();
  }
  onTopicMessage(topic: Topic, epoch: Epoch, message: ChannelMessage): void {
    this.topicMessages.push({ topic, epoch, message });
    this.wake();
  }
  onSubscribed(clientId: ClientId, topic: Topic, position: StreamPosition): void {
    this.joins.push({ clientId, topic, position });
    this.wake();
  }
  onUnsubscribed(clientId: ClientId, topic: Topic): void {
    this.leaves.push({ clientId, topic });
    this.wake();
  }
  resyncs = 0;
  onResync(): void {
    this.resyncs++;
    this.wake();
  }

  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

export interface EngineFixture {
  readonly engine: Engine;
  readonly handler: RecordingHandler;
  /** Moves the engine's clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * The behaviour every engine must share. `make` starts a fresh engine with a replay buffer of 3
 * messages and a 60 s window, and a presence history of 4 changes.
 */
export function engineContract(title: string, make: () => Promise<EngineFixture>): void {
  const it = (name: string, body: (f: EngineFixture, t: ExecutionContext) => Promise<void>): void => {
    test(`${title} - ${name}`, async (t) => {
      const fixture = await make();
      try {
        await body(fixture, t);
      } finally {
        await fixture.close();
      }
    });
  };

  it('publish gives consecutive seqs in one epoch and delivers each message of an attached client once', async ({ engine, handler }, t) => {
    const r1 = await engine.publish('a', 'one');
    t.false(r1.connected);
    await engine.attach('a', 's1', 0);
    const r2 = await engine.publish('a', 'two');
    const r3 = await engine.publish('a', 'three');
    t.deepEqual([r1.seq, r2.seq, r3.seq], [1, 2, 3]);
    t.is(r1.epoch, r2.epoch);
    t.true(r2.connected);
    // Messages for a client id without a socket need not reach the handler (they wait in history).
    const delivered = (): [string, number, string][] =>
      handler.messages.filter((m) => m.message.seq >= 2).map((m) => [m.clientId, m.message.seq, m.message.data]);
    await handler.until(() => delivered().length === 2);
    t.deepEqual(delivered(), [
      ['a', 2, 'two'],
      ['a', 3, 'three'],
    ]);
  });

  it('an idempotency key seen before returns the first result and appends nothing', async ({ engine }, t) => {
    const first = await engine.publish('b', 'x', 'key-1');
    const again = await engine.publish('b', 'x', 'key-1');
    t.deepEqual(again, first);
    t.is((await engine.publish('b', 'y')).seq, 2);
    t.is((await engine.history('b', { epoch: first.epoch, seq: 0 })).messages.length, 2);
  });

  it('idempotency keys of different client ids never collide, whatever bytes the ids and keys hold', async ({ engine }, t) => {
    // Once the same Redis key: (client `a}:x`, key `y`) and (client `a`, key `x}:y`).
    const first = await engine.publish('a}:x', 'to a}:x', 'y');
    const second = await engine.publish('a', 'to a', 'x}:y');
    t.is(second.seq, 1);
    t.deepEqual((await engine.history('a', { epoch: second.epoch, seq: 0 })).messages.map((m) => m.data), ['to a']);
    t.deepEqual((await engine.history('a}:x', { epoch: first.epoch, seq: 0 })).messages.map((m) => m.data), ['to a}:x']);
    t.deepEqual(await engine.publish('a', 'to a', 'x}:y'), second, 'each key is still remembered for its own client id');
  });

  it('client ids and topics holding {, } and : keep their own state', async ({ engine }, t) => {
    const ids = ['k', 'k}:log', '{k}', 'k:topics', '}{', '5:k'];
    for (const id of ids) await engine.publish(id, `to ${id}`);
    for (const id of ids) t.deepEqual((await engine.history(id, undefined)).messages.map((m) => m.data), [`to ${id}`], id);
    const topics = ['z', 'z}:m', '{z}', 'z:log'];
    for (const [i, topic] of topics.entries()) await engine.subscribe([ids[i]!], topic, 10);
    for (const [i, topic] of topics.entries()) {
      t.deepEqual((await engine.memberships(ids[i]!)).map((m) => m.topic), [topic], ids[i]);
      t.is((await engine.publishTopic(topic, `on ${topic}`)).members, 1, topic);
    }
    for (const topic of topics) {
      const fromStart = await engine.topicHistory(topic, { epoch: (await engine.publishTopic(topic, 'again')).epoch, seq: 0 });
      t.deepEqual(fromStart.messages.map((m) => m.data), [`on ${topic}`, 'again'], topic);
    }
  });

  it('an idempotency key is remembered within the channel\'s epoch: after CloseChannel it sends a new message', async ({ engine, advance }, t) => {
    const first = await engine.publish('ik', 'm', 'retry-1');
    advance(1);
    await engine.closeChannel('ik', 1);
    const after = await engine.publish('ik', 'm', 'retry-1');
    t.not(after.epoch, first.epoch, 'a new epoch, a new message');
    t.is(after.seq, 1);
    t.deepEqual((await engine.history('ik', { epoch: after.epoch, seq: 0 })).messages.map((m) => m.data), ['m']);
    t.deepEqual(await engine.publish('ik', 'm', 'retry-1'), after, 'and the key is remembered in the new epoch');
  });

  it('history follows a position, and says when it cannot', async ({ engine }, t) => {
    const { epoch } = await engine.publish('c', '1');
    for (const m of ['2', '3', '4', '5']) await engine.publish('c', m);
    const resumed = await engine.history('c', { epoch, seq: 3 });
    t.deepEqual(resumed.messages.map((m) => m.seq), [4, 5]);
    t.true(resumed.recovered);
    const gap = await engine.history('c', { epoch, seq: 0 });
    t.false(gap.recovered);
    t.is(gap.fromSeq, 2);
    t.deepEqual(gap.messages.map((m) => m.seq), [3, 4, 5]);
    const other = await engine.history('c', { epoch: 'elsewhere', seq: 4 });
    t.false(other.recovered);
    t.deepEqual(other.messages.map((m) => m.seq), [3, 4, 5], 'another epoch\'s position gives every kept message');
    t.is(other.fromSeq, 2);
    const beyond = await engine.history('c', { epoch, seq: 7 });
    t.false(beyond.recovered, 'a position beyond the last seq is never recovered');
    t.deepEqual(beyond.messages.map((m) => m.seq), [3, 4, 5]);
  });

  it('history ages out with the window', async ({ engine, advance }, t) => {
    const { epoch } = await engine.publish('d', 'old');
    advance(61_000);
    await engine.publish('d', 'new');
    const h = await engine.history('d', { epoch, seq: 0 });
    t.false(h.recovered);
    t.deepEqual(h.messages.map((m) => m.data), ['new']);
  });

  it('without a position, history starts after the last acknowledged seq', async ({ engine }, t) => {
    const { epoch } = await engine.publish('e', '1');
    await engine.publish('e', '2');
    await engine.publish('e', '3');
    await engine.acknowledge('e', { epoch, seq: 2 });
    await engine.acknowledge('e', { epoch, seq: 1 }); // stale: ignored
    await engine.acknowledge('e', { epoch, seq: 99 }); // beyond the last seq: ignored
    const h = await engine.history('e');
    t.is(h.fromSeq, 2);
    t.true(h.recovered);
    t.deepEqual(h.messages.map((m) => m.data), ['3']);
  });

  it('attach makes a client CONNECTED once; a newer socket displaces the old silently', async ({ engine, handler }, t) => {
    t.true((await engine.attach('f', 's1', 0)).attached);
    t.true((await engine.attach('f', 's2', 0)).attached);
    await handler.until(() => handler.displaced.length === 1);
    t.deepEqual(handler.displaced, [{ clientId: 'f', socketId: 's1' }]);
    t.false(await engine.detach('f', 's1', PresenceReason.SocketClosed), 'the displaced socket changes nothing');
    t.true((await engine.publish('f', 'm')).connected);
    t.true(await engine.detach('f', 's2', PresenceReason.SocketClosed));
    await handler.until(() => handler.presence.length === 2);
    t.deepEqual(
      handler.presence.map((p) => [p.clientId, p.state, p.reason]),
      [
        ['f', 'connected', 'socket-opened'],
        ['f', 'disconnected', 'socket-closed'],
      ],
    );
    t.true(engine.compareCursors(handler.presence[0]!.cursor, handler.presence[1]!.cursor) < 0);
  });

  it('presence answers point queries and snapshots, and resumes from a cursor', async ({ engine, handler }, t) => {
    await engine.attach('g1', 's1', 0);
    await engine.attach('g2', 's2', 0);
    const present = await engine.presence(['g1', 'nobody']);
    t.true(present[0]!.connected);
    t.is(typeof present[0]!.sinceMs, 'number');
    t.deepEqual(present[1], { clientId: 'nobody', connected: false });
    const snapshot = await engine.presenceSnapshot();
    t.deepEqual(snapshot.clients.map((c) => c.clientId).sort(), ['g1', 'g2']);
    await engine.detach('g1', 's1', PresenceReason.SocketClosed);
    await handler.until(() => handler.presence.length === 3);
    const since = await engine.presenceSince(snapshot.cursor);
    t.deepEqual(since?.map((c) => [c.clientId, c.state]), [['g1', 'disconnected']]);
    t.is(await engine.presenceSince('unknown.cursor'), undefined);
    for (let i = 0; i < 10; i++) await engine.attach(`h${i}`, `x${i}`, 0);
    t.is(await engine.presenceSince(snapshot.cursor), undefined, 'changes beyond the history size are gone');
  });

  it('topics: members join after the current seq, messages get topic seqs and reach the handler', async ({ engine, handler }, t) => {
    await engine.publishTopic('news', 'before anyone');
    await engine.attach('m1', 's1', 0);
    t.is(await engine.subscribe(['m1', 'm2', 'm1'], 'news', 10), 2);
    t.is(await engine.subscribe(['m1'], 'news', 10), 0, 'joining twice adds nothing');
    // Joins must reach the node of an attached client; others may be reported too.
    await handler.until(() => handler.joins.some((j) => j.clientId === 'm1'));
    t.deepEqual(
      handler.joins.filter((j) => j.clientId === 'm1').map((j) => j.position.seq),
      [1],
    );
    await engine.followTopic('news');
    const sent = await engine.publishTopic('news', 'hello');
    t.like(sent, { topic: 'news', seq: 2, members: 2 });
    await handler.until(() => handler.topicMessages.some((m) => m.message.data === 'hello'));
    t.is(handler.topicMessages.filter((m) => m.message.data === 'hello').length, 1);
    const [membership] = await engine.memberships('m1');
    t.deepEqual(membership, { topic: 'news', position: { epoch: sent.epoch, seq: 1 } });
    const fresh = await engine.topicHistory('news', membership!.position);
    t.deepEqual(fresh.messages.map((m) => m.data), ['hello']);
    await engine.acknowledgeTopic('m1', 'news', { epoch: sent.epoch, seq: 2 });
    t.is((await engine.memberships('m1'))[0]!.position.seq, 2);
    t.is(await engine.unsubscribe(['m1', 'nobody'], 'news'), 1);
    await handler.until(() => handler.leaves.length === 1);
    t.deepEqual(await engine.memberships('m1'), []);
    t.is((await engine.publishTopic('news', 'after')).members, 1);
  });

  it('topics: the per-client limit is checked before anything changes', async ({ engine }, t) => {
    await engine.subscribe(['n1'], 'a', 2);
    await engine.subscribe(['n1'], 'b', 2);
    await t.throwsAsync(engine.subscribe(['n2', 'n1'], 'c', 2), { message: /already in 2 topics; the limit is 2/ });
    t.deepEqual(await engine.memberships('n2'), [], 'n2 was not subscribed either');
  });

  it('topics: history is bounded and says when a position is out of the window', async ({ engine }, t) => {
    const first = await engine.publishTopic('t', '1');
    for (const m of ['2', '3', '4', '5']) await engine.publishTopic('t', m);
    const h = await engine.topicHistory('t', { epoch: first.epoch, seq: 0 });
    t.false(h.recovered);
    t.deepEqual(h.messages.map((m) => m.seq), [3, 4, 5]);
    t.true((await engine.topicHistory('t', { epoch: first.epoch, seq: 4 })).recovered);
    const other = await engine.topicHistory('t', { epoch: 'other', seq: 4 });
    t.false(other.recovered);
    t.deepEqual(other.messages.map((m) => m.seq), [3, 4, 5], 'another epoch\'s position gives every kept message');
    t.false((await engine.topicHistory('t', { epoch: first.epoch, seq: 6 })).recovered, 'nor is a position beyond the last seq');
  });

  it('closeChannel revokes, drops history and tells every node', async ({ engine, handler, advance }, t) => {
    const before = await engine.publish('i', 'm');
    await engine.attach('i', 's1', 0);
    advance(1);
    t.true(await engine.closeChannel('i', 12345));
    await handler.until(() => handler.closed.length === 1);
    t.deepEqual(handler.closed, ['i']);
    t.is(await engine.revokedAt('i'), 12345);
    const after = await engine.publish('i', 'new');
    t.not(after.epoch, before.epoch);
    t.is(after.seq, 1);
    t.false(await engine.closeChannel('never-opened', 1));
  });

  it('one recovery rule: a resume beyond the last seq is not recovered; a fresh open past trimmed history has no gap', async ({ engine }, t) => {
    const first = await engine.publish('rr', 'one');
    await engine.publish('rr', 'two');
    const ahead = await engine.history('rr', { epoch: first.epoch, seq: 99 });
    t.false(ahead.recovered, 'a position this history never reached cannot be honoured');
    t.is(ahead.fromSeq, 0);
    t.deepEqual(ahead.messages.map((m) => m.data), ['one', 'two']);
    const topicFirst = await engine.publishTopic('rr-topic', 'a');
    const topicAhead = await engine.topicHistory('rr-topic', { epoch: topicFirst.epoch, seq: 7 });
    t.false(topicAhead.recovered);
    t.deepEqual(topicAhead.messages.map((m) => m.data), ['a']);
    // The buffer keeps 3: seqs 1..5 leave 3..5; nothing acked, so a fresh open starts at the oldest kept.
    for (const data of ['three', 'four', 'five']) await engine.publish('rr', data);
    const fresh = await engine.history('rr');
    t.true(fresh.recovered);
    t.is(fresh.fromSeq, 2, 'the welcome position is just before the oldest message kept');
    t.deepEqual(fresh.messages.map((m) => m.seq), [3, 4, 5]);
  });

  it('holder tells which socket holds a client id and its revocation, as a node reads them after losing events', async ({ engine }, t) => {
    t.deepEqual(await engine.holder('hd'), { socketId: undefined, revokedAtMs: undefined });
    await engine.attach('hd', 's1', 0);
    t.deepEqual(await engine.holder('hd'), { socketId: 's1', revokedAtMs: undefined });
    await engine.attach('hd', 's2', 0);
    t.is((await engine.holder('hd')).socketId, 's2', 'the newest socket');
    await engine.closeChannel('hd', 777);
    t.deepEqual(await engine.holder('hd'), { socketId: undefined, revokedAtMs: 777 });
  });

  it('attach refuses a token issued at or before a CloseChannel, atomically, and changes nothing', async ({ engine, handler }, t) => {
    t.true((await engine.attach('r', 's1', 100)).attached);
    await engine.closeChannel('r', 200);
    await handler.until(() => handler.closed.length === 1);
    const presenceBefore = handler.presence.length;
    t.deepEqual(await engine.attach('r', 's2', 150), { attached: false, reason: 'revoked' });
    t.deepEqual(await engine.attach('r', 's3', 200), { attached: false, reason: 'revoked' }, 'issued in the revocation\'s millisecond');
    t.false((await engine.presence(['r']))[0]!.connected);
    t.is(handler.presence.length, presenceBefore, 'a refused attach emits no presence');
    t.deepEqual(handler.displaced, [], 'a refused attach displaces nobody');
    t.true((await engine.attach('r', 's4', 201)).attached, 'a token minted after the close works');
  });
}
