import type { ClientId, Topic } from '../../core/types.js';

/**
 * Every Redis key and pub/sub channel of one partition of the engine's state, under one prefix:
 * P (the configured prefix, default "channeld") on a plain Redis and on each independent shard
 * (one partition each); on a Redis Cluster "{P}" with one partition, else "{P:i}" for partition
 * i, so each partition's keys share one hash slot and partitions spread over the slots. What a
 * script does reaches into one partition only (see redis.ts for the steps that span two). Client ids,
 * topics and idempotency keys are written length-first, <X> = "<bytes of X>:<X>" (e.g.
 * P:ch:5:alice:log), so no two names are alike whatever bytes the ids hold ({, } and : included).
 *
 *   P:rid               string  run id of the Redis process serving the data, set by boot.lua (see generation.lua)
 *   P:ch:<C>            hash    e epoch, l last seq, a acked seq, g run id of its last write, s socket id, n node id,
 *                               t connected since, r retain-until ms, pv id of its last presence change, mv version
 *                               of its last membership change (kept a replay window after a CloseChannel)
 *   P:ch:<C>:log        stream  the replay buffer; entry id 0-<seq>, fields d (data), t (time ms)
 *   P:ch:<C>:topics     hash    topic -> "<epoch> <seq> <mv>": memberships, where a fresh open starts, and the
 *                               membership's version (the channel hash's mv when it was made)
 *   P:idem:<C>:<K>      string  "<seq> <epoch> <connected>" of an idempotent send, expires with the replay window
 *   P:rev:<C>           string  revocation time (ms) set by CloseChannel
 *   P:tp:<T>            hash    e epoch, l last seq, g run id of its last write
 *   P:tp:<T>:log        stream  the topic's replay buffer, like a channel's
 *   P:tp:<T>:mz         zset    member client ids, all score 0 (so ZRANGE BYLEX pages them in byte order)
 *   P:tp:<T>:m          set     member client ids as versions before topic presence kept them; moved
 *                               into :mz (and deleted) by the first script that touches the topic's members
 *   P:tp:<T>:info       hash    member client id -> the info its Subscribe set (absent when none)
 *   P:tp:<T>:conn       hash    client id -> "<connected 0|1> <pv it was set from> <id of its joined change or -> <mv>":
 *                               a member's connection as the topic's partition last heard it, and the version of the
 *                               last membership change applied (kept after a leave; see presence.lua read_member)
 *   P:tp:<T>:pres       stream  the topic's presence changes: fields c client id, k kind (joined|left|updated|
 *                               connected|disconnected), r reason, i info, t ms; the id is the cursor; MAXLEN ~
 *                               the topic presence history size, expires with the topic
 * The keys below are per partition, about the client ids (or nodes' clients) of that partition:
 *   P:online            hash    client id -> connected-since ms, for snapshots and point queries
 *   P:presence          stream  presence changes; fields c, s (connected|disconnected), r reason, t ms; the id is
 *                               the partition's part of a cursor (cursor-vector.ts)
 *   P:deliveries        stream  delivery receipts; fields c, e epoch, s acked seq, tp topic (topic acks only), t ms;
 *                               the id is the partition's part of a cursor
 *   P:nodes             set     node ids that have announced themselves
 *   P:node:N:lease      string  present while node N is alive (renewed well within its TTL)
 *   P:node:N:clients    set     client ids whose socket node N holds
 * Pub/sub channels, per partition too (on a Redis Cluster with SPUBLISH, so each stays in its shard):
 *   P:pub:node:N        to node N: messages, displacements, channel closes, topic joins/leaves
 *   P:pub:tp:<T>        a topic's messages, to every node holding a member socket
 *   P:pub:presence      presence changes, to every node
 *   P:pub:tpres:<T>     a topic's presence changes, to the nodes that have watchers of the topic
 *   P:pub:deliveries    delivery receipts, to the nodes that follow them (watchers, waiting SendMessages)
 * Node ids are made by the engine (base64url) and written as they are. The Lua scripts write ids
 * the same way (id_key in keys.lua) from the affixes below.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  channel(clientId: ClientId): string {
    return `${this.prefix}:ch:${lengthFirst(clientId)}`;
  }
  channelLog(clientId: ClientId): string {
    return `${this.channel(clientId)}:log`;
  }
  channelTopics(clientId: ClientId): string {
    return `${this.channel(clientId)}:topics`;
  }
  idempotency(clientId: ClientId, key: string): string {
    return `${this.prefix}:idem:${lengthFirst(clientId)}:${lengthFirst(key)}`;
  }
  revocation(clientId: ClientId): string {
    return `${this.prefix}:rev:${lengthFirst(clientId)}`;
  }
  topic(topic: Topic): string {
    return `${this.prefix}:tp:${lengthFirst(topic)}`;
  }
  topicLog(topic: Topic): string {
    return `${this.topic(topic)}:log`;
  }
  topicMembers(topic: Topic): string {
    return `${this.topic(topic)}:mz`;
  }
  legacyTopicMembers(topic: Topic): string {
    return `${this.topic(topic)}:m`;
  }
  topicMemberInfo(topic: Topic): string {
    return `${this.topic(topic)}:info`;
  }
  topicMemberConnections(topic: Topic): string {
    return `${this.topic(topic)}:conn`;
  }
  topicPresenceLog(topic: Topic): string {
    return `${this.topic(topic)}:pres`;
  }
  topicPresenceChannel(topic: Topic): string {
    return `${this.topicPresenceChannelPrefix()}${lengthFirst(topic)}`;
  }
  topicPresenceChannelPrefix(): string {
    return `${this.prefix}:pub:tpres:`;
  }
  /**
   * What presence.lua's topic helpers build a topic's names from, in this order: the topic key
   * prefix, the suffixes of the members zset, the legacy members set, the info hash, the
   * connections hash and the presence stream, and the presence pub/sub channel prefix.
   */
  topicPresenceAffixes(): [string, string, string, string, string, string, string] {
    return [`${this.prefix}:tp:`, ':mz', ':m', ':info', ':conn', ':pres', this.topicPresenceChannelPrefix()];
  }
  runId(): string {
    return `${this.prefix}:rid`;
  }
  online(): string {
    return `${this.prefix}:online`;
  }
  presence(): string {
    return `${this.prefix}:presence`;
  }
  deliveries(): string {
    return `${this.prefix}:deliveries`;
  }
  nodes(): string {
    return `${this.prefix}:nodes`;
  }
  nodeLease(nodeId: string): string {
    return `${this.prefix}:node:${nodeId}:lease`;
  }
  nodeClients(nodeId: string): string {
    return `${this.prefix}:node:${nodeId}:clients`;
  }
  // Scripts that reach keys of other client ids, nodes or topics build the names themselves from
  // these two halves (so every name still comes from this file): prefix .. <id> .. suffix for
  // client ids and topics (keys.lua id_key), prefix .. id .. suffix for node ids.
  channelAffixes(): [string, string] {
    return [`${this.prefix}:ch:`, ''];
  }
  nodeClientsAffixes(): [string, string] {
    return [`${this.prefix}:node:`, ':clients'];
  }
  topicAffixes(): [string, string] {
    return [`${this.prefix}:tp:`, ''];
  }
  /** Prefixes the Lua scripts complete with a node id or a topic (they build those names themselves). */
  nodeChannelPrefix(): string {
    return `${this.prefix}:pub:node:`;
  }
  nodeChannel(nodeId: string): string {
    return `${this.nodeChannelPrefix()}${nodeId}`;
  }
  topicChannel(topic: Topic): string {
    return `${this.topicChannelPrefix()}${lengthFirst(topic)}`;
  }
  topicChannelPrefix(): string {
    return `${this.prefix}:pub:tp:`;
  }
  presenceChannel(): string {
    return `${this.prefix}:pub:presence`;
  }
  deliveriesChannel(): string {
    return `${this.prefix}:pub:deliveries`;
  }
}

/** "<UTF-8 byte length>:<text>", as Lua's # counts (ioredis sends strings as UTF-8). */
function lengthFirst(text: string): string {
  return `${Buffer.byteLength(text, 'utf8')}:${text}`;
}
