import test, { type ExecutionContext } from 'ava';
import type { Engine, EngineHandler } from '../../src/engine/engine.js';
import type { ChannelMessage, ClientId, DeliveryReceipt, Epoch, PresenceChange, SocketId, StreamPosition, Topic } from '../../src/core/types.js';
import { PresenceReason } from '../../src/core/types.js';
import type { TopicPresenceChange } from '../../src/core/topic-presence.js';

/** Records everything an engine reports, and lets a test wait for it. */
export class RecordingHandler implements EngineHandler {
  readonly messages: { clientId: ClientId; epoch: Epoch; message: ChannelMessage }[] = [];
  readonly displaced: { clientId: ClientId; socketId: SocketId }[] = [];
  readonly closed: ClientId[] = [];
  readonly presence: PresenceChange[] = [];
  readonly topicMessages: { topic: Topic; epoch: Epoch; message: ChannelMessage }[] = [];
  readonly joins: { clientId: ClientId; topic: Topic; position: StreamPosition }[] = [];
  readonly leaves: { clientId: ClientId; topic: Topic }[] = [];
  readonly receipts: DeliveryReceipt[] = [];
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
  onDelivery(receipt: DeliveryReceipt): void {
    this.receipts.push(receipt);
    this.wake();
  }
  resyncs = 0;
  onResync(): void {
    this.resyncs++;
    this.wake();
  }
  readonly topicPresence: TopicPresenceChange[] = [];
  readonly topicPresenceGaps: Topic[] = [];
  onTopicPresence(change: TopicPresenceChange): void {
    this.topicPresence.push(change);
    this.wake();
  }
  onTopicPresenceGap(topic: Topic): void {
    this.topicPresenceGaps.push(topic);
    this.wake();
  }
  /** `[clientId, kind, reason, info]` of the topic presence changes of `topic`. */
  topicPresenceOf(topic: Topic): [string, string, string, string][] {
    return this.topicPresence.filter((c) => c.topic === topic).map((c) => [c.clientId, c.kind, c.reason, c.info]);
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
 * messages and a 60 s window, and presence and delivery histories of 4 entries.
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
  topicPresenceContract(it);

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
    // A partitioned engine keeps the history size per partition: changes spread over them.
    let attached = 0;
    while (attached < 400 && (await engine.presenceSince(snapshot.cursor)) !== undefined) await engine.attach(`h${attached}`, `x${attached++}`, 0);
    t.is(await engine.presenceSince(snapshot.cursor), undefined, 'changes beyond the history size are gone');
    t.true(attached >= 3, `the history held ${attached} more changes: at least the history size (4) less the one since`);
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

  it('delivery receipts: each advance of an acknowledged position is one receipt; stale and unsent positions none', async ({ engine, handler }, t) => {
    await engine.followDeliveries();
    const start = await engine.deliveryCursor();
    await engine.attach('d', 's1', 0);
    const sent = await engine.publish('d', 'one');
    await engine.publish('d', 'two');
    await engine.publish('d', 'three');
    await engine.acknowledge('d', { epoch: sent.epoch, seq: 2 });
    await engine.acknowledge('d', { epoch: sent.epoch, seq: 1 });
    await engine.acknowledge('d', { epoch: sent.epoch, seq: 2 });
    await engine.acknowledge('d', { epoch: sent.epoch, seq: 9 });
    await engine.acknowledge('d', { epoch: 'another-epoch', seq: 3 });
    await engine.acknowledge('d', { epoch: sent.epoch, seq: 3 });
    await handler.until(() => handler.receipts.length >= 2);
    t.deepEqual(
      handler.receipts.map((r) => [r.clientId, r.epoch, r.seq, r.topic]),
      [
        ['d', sent.epoch, 2, undefined],
        ['d', sent.epoch, 3, undefined],
      ],
    );
    const logged = await engine.deliveriesSince(start);
    t.deepEqual(logged?.map((r) => [r.seq, r.cursor]), handler.receipts.map((r) => [r.seq, r.cursor]), 'the log holds what was reported');
    t.deepEqual((await engine.deliveriesSince(handler.receipts[0]!.cursor))?.map((r) => r.seq), [3]);
    t.is(await engine.deliveryCursor(), handler.receipts[1]!.cursor);
    t.true(engine.compareDeliveryCursors(handler.receipts[0]!.cursor, handler.receipts[1]!.cursor) < 0);
    t.deepEqual(await engine.deliveries(['d', 'nobody']), [
      { clientId: 'd', epoch: sent.epoch, ackedSeq: 3, lastSeq: 3, connected: true },
      { clientId: 'nobody', epoch: undefined, ackedSeq: 0, lastSeq: 0, connected: false },
    ]);
    await engine.unfollowDeliveries();
  });

  it('delivery receipts: topic acknowledgements carry the topic; the log is bounded and says when a cursor is gone', async ({ engine, handler }, t) => {
    await engine.followDeliveries();
    const start = await engine.deliveryCursor();
    await engine.subscribe(['e'], 'news', 10);
    const posted = await engine.publishTopic('news', 'hello');
    await engine.acknowledgeTopic('e', 'news', { epoch: posted.epoch, seq: 1 });
    await engine.acknowledgeTopic('e', 'news', { epoch: posted.epoch, seq: 1 });
    await handler.until(() => handler.receipts.length >= 1);
    t.deepEqual(handler.receipts.map((r) => [r.clientId, r.epoch, r.seq, r.topic]), [['e', posted.epoch, 1, 'news']]);
    // Four receipts are kept: after five more, the first cursor cannot be resumed from.
    const first = handler.receipts[0]!.cursor;
    for (let i = 1; i <= 5; i++) {
      const sent = await engine.publish('f', `m${i}`);
      await engine.acknowledge('f', { epoch: sent.epoch, seq: sent.seq });
    }
    await handler.until(() => handler.receipts.length >= 6);
    t.is(await engine.deliveriesSince(first), undefined, 'trimmed');
    t.is(await engine.deliveriesSince(start), undefined, 'trimmed, from before the first');
    t.deepEqual((await engine.deliveriesSince(handler.receipts[3]!.cursor))?.map((r) => r.seq), [4, 5]);
    t.is(await engine.deliveriesSince('not-a-cursor'), undefined);
    t.is(await engine.deliveriesSince('999999999999999-0'), undefined, 'a cursor from the future');
    await engine.unfollowDeliveries();
  });
}

type It = (name: string, body: (f: EngineFixture, t: ExecutionContext) => Promise<void>) => void;

/** Who is in a topic: members, info, counts, paging and the per-topic presence log. */
function topicPresenceContract(it: It): void {
  it('topic presence: members are paged in client id order with connected and info; counts are exact', async ({ engine }, t) => {
    const ids = Array.from({ length: 25 }, (_, i) => `u${String(i).padStart(2, '0')}`);
    t.is(await engine.subscribe(ids.slice(0, 10), 'room', 10, '{"n":"first"}'), 10);
    t.is(await engine.subscribe(ids.slice(10), 'room', 10), 15);
    await engine.attach('u03', 's3', 0);
    t.is(await engine.countTopicMembers('room'), 25);
    t.is(await engine.countTopicMembers('nobody-here'), 0);
    const seen: string[] = [];
    let after = '';
    for (;;) {
      const page = await engine.topicMembers('room', 7, after);
      seen.push(...page.members.map((m) => m.clientId));
      if (!page.more) break;
      after = page.members.at(-1)!.clientId;
    }
    t.deepEqual(seen, ids, 'every member once, in order, over 4 pages');
    const first = await engine.topicMembers('room', 5, '');
    t.deepEqual(first.members.slice(2, 4), [
      { clientId: 'u02', connected: false, info: '{"n":"first"}' },
      { clientId: 'u03', connected: true, info: '{"n":"first"}' },
    ]);
    t.is((await engine.topicMembers('room', 5, 'u11')).members[0]!.clientId, 'u12', 'a page starts after the last id, whatever it was');
    t.is((await engine.topicMembers('room', 5, 'u02x')).members[0]!.clientId, 'u03', 'even one that left');
    await engine.unsubscribe(['u12'], 'room');
    t.is((await engine.topicMembers('room', 5, 'u11')).members[0]!.clientId, 'u13', 'pages see leaves at once');
    const last = await engine.topicMembers('room', 5, 'u20');
    t.deepEqual(last.members.map((m) => m.clientId), ['u21', 'u22', 'u23', 'u24']);
    t.false(last.more);
    t.is((await engine.topicMembers('room', 1000, '')).members.length, 24);
  });

  it('topic presence: joins, info updates, connects, disconnects and leaves are logged once per real change', async ({ engine, handler }, t) => {
    await engine.followTopicPresence('lobby');
    const start = await engine.topicPresenceSnapshot('lobby');
    t.deepEqual(start.members, []);
    await engine.subscribe(['p1', 'p2'], 'lobby', 10, 'hi');
    await engine.subscribe(['p1'], 'lobby', 10, 'hi');
    await engine.subscribe(['p1'], 'lobby', 10, 'changed');
    await engine.attach('p1', 's1', 0);
    await engine.attach('p1', 's2', 0);
    await engine.detach('p1', 's1', PresenceReason.SocketClosed);
    await engine.detach('p1', 's2', PresenceReason.TokenExpired);
    await engine.unsubscribe(['p2', 'p2'], 'lobby');
    await engine.unsubscribe(['p2'], 'lobby');
    const expected: [string, string, string, string][] = [
      ['p1', 'joined', '', 'hi'],
      ['p2', 'joined', '', 'hi'],
      ['p1', 'updated', '', 'changed'],
      ['p1', 'connected', 'socket-opened', ''],
      ['p1', 'disconnected', 'token-expired', ''],
      ['p2', 'left', 'unsubscribed', ''],
    ];
    await handler.until(() => handler.topicPresenceOf('lobby').length >= expected.length);
    t.deepEqual(handler.topicPresenceOf('lobby'), expected, 'a rejoin with the same info, a displacement and a displaced detach log nothing');
    const since = await engine.topicPresenceSince('lobby', start.cursor);
    t.deepEqual(since?.map((c) => [c.clientId, c.kind, c.reason, c.info]), expected, 'the log replays the same changes');
    const cursors = since!.map((c) => c.cursor);
    for (let i = 1; i < cursors.length; i++) t.true(engine.compareTopicPresenceCursors(cursors[i - 1]!, cursors[i]!) < 0);
    t.deepEqual((await engine.topicPresenceSince('lobby', cursors[3]!))?.map((c) => c.kind), ['disconnected', 'left']);
    t.deepEqual(await engine.topicPresenceSince('lobby', cursors.at(-1)!), []);
    const snapshot = await engine.topicPresenceSnapshot('lobby');
    t.deepEqual(snapshot.members, [{ clientId: 'p1', connected: false, info: 'changed' }]);
    t.is(snapshot.cursor, cursors.at(-1)!);
    t.is(await engine.topicPresenceSince('lobby', 'not-a-cursor'), undefined);
    await engine.subscribe(['p1'], 'lobby', 10);
    await handler.until(() => handler.topicPresenceOf('lobby').length === expected.length + 1);
    t.deepEqual(handler.topicPresenceOf('lobby').at(-1), ['p1', 'updated', '', ''], 'subscribing again without info clears it');
  });

  it('topic presence: CloseChannel disconnects and removes the member from each of its topics', async ({ engine, handler, advance }, t) => {
    await engine.followTopicPresence('t1');
    await engine.followTopicPresence('t2');
    await engine.subscribe(['cc'], 't1', 10, 'x');
    await engine.subscribe(['cc'], 't2', 10);
    await engine.attach('cc', 's1', 0);
    advance(1);
    await engine.closeChannel('cc', 5);
    // The node's socket is closed by the gateway: here nobody detaches it, so the engine reports it.
    for (const topic of ['t1', 't2']) {
      await handler.until(() => handler.topicPresenceOf(topic).some((c) => c[1] === 'left'));
      t.deepEqual(handler.topicPresenceOf(topic).slice(-2), [
        ['cc', 'disconnected', 'channel-closed', ''],
        ['cc', 'left', 'channel-closed', ''],
      ], topic);
      t.is(await engine.countTopicMembers(topic), 0);
    }
  });

  it('topic presence: a resume from a cursor older than the kept history is refused', async ({ engine }, t) => {
    const start = await engine.topicPresenceSnapshot('busy');
    await engine.subscribe(['b0'], 'busy', 10);
    const first = (await engine.topicPresenceSince('busy', start.cursor))![0]!.cursor;
    // Enough for the Redis engine's approximate trimming (whole stream nodes of 100) too.
    for (let i = 0; i < 150; i++) {
      await engine.subscribe(['b1'], 'busy', 10);
      await engine.unsubscribe(['b1'], 'busy');
    }
    t.is(await engine.topicPresenceSince('busy', first), undefined);
    const latest = await engine.topicPresenceSnapshot('busy');
    t.deepEqual(await engine.topicPresenceSince('busy', latest.cursor), []);
  });
}
