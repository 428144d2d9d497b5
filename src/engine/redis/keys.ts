import type { ClientId, Topic } from '../../core/types.js';

/**
 * Every Redis key and pub/sub channel the engine uses, under one configurable prefix P
 * (default "channeld"). Client ids and topics sit in braces so one channel's keys share a hash slot.
 *
 *   P:ch:{C}            hash    e epoch, l last seq, a acked seq, s socket id, n node id, t connected since, r retain-until ms
 *   P:ch:{C}:log        stream  the replay buffer; entry id 0-<seq>, fields d (data), t (time ms)
 *   P:ch:{C}:topics     hash    topic -> "<epoch> <seq>": memberships and where a fresh open starts
 *   P:idem:{C}:<key>    string  "<seq> <epoch> <connected>" of an idempotent send, expires with the replay window
 *   P:rev:{C}           string  revocation time (ms) set by CloseChannel
 *   P:tp:{T}            hash    e epoch, l last seq
 *   P:tp:{T}:log        stream  the topic's replay buffer, like a channel's
 *   P:tp:{T}:m          set     member client ids
 *   P:online            hash    client id -> connected-since ms, for snapshots and point queries
 *   P:presence          stream  presence changes; fields c, s (connected|disconnected), r reason, t ms; the id is the cursor
 *   P:nodes             set     node ids that have announced themselves
 *   P:node:N:lease      string  present while node N is alive (renewed well within its TTL)
 *   P:node:N:clients    set     client ids whose socket node N holds
 * Pub/sub channels:
 *   P:pub:node:N        to node N: messages, displacements, channel closes, topic joins/leaves
 *   P:pub:tp:{T}        a topic's messages, to every node holding a member socket
 *   P:pub:presence      presence changes, to every node
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  channel(clientId: ClientId): string {
    return `${this.prefix}:ch:{${clientId}}`;
  }
  channelLog(clientId: ClientId): string {
    return `${this.channel(clientId)}:log`;
  }
  channelTopics(clientId: ClientId): string {
    return `${this.channel(clientId)}:topics`;
  }
  idempotency(clientId: ClientId, key: string): string {
    return `${this.prefix}:idem:{${clientId}}:${key}`;
  }
  revocation(clientId: ClientId): string {
    return `${this.prefix}:rev:{${clientId}}`;
  }
  topic(topic: Topic): string {
    return `${this.prefix}:tp:{${topic}}`;
  }
  topicLog(topic: Topic): string {
    return `${this.topic(topic)}:log`;
  }
  topicMembers(topic: Topic): string {
    return `${this.topic(topic)}:m`;
  }
  online(): string {
    return `${this.prefix}:online`;
  }
  presence(): string {
    return `${this.prefix}:presence`;
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
  // these two halves (so every name still comes from this file).
  channelAffixes(): [string, string] {
    return [`${this.prefix}:ch:{`, '}'];
  }
  nodeClientsAffixes(): [string, string] {
    return [`${this.prefix}:node:`, ':clients'];
  }
  topicMembersAffixes(): [string, string] {
    return [`${this.prefix}:tp:{`, '}:m'];
  }
  /** Prefixes the Lua scripts complete with a node id or a topic (they build those names themselves). */
  nodeChannelPrefix(): string {
    return `${this.prefix}:pub:node:`;
  }
  nodeChannel(nodeId: string): string {
    return `${this.nodeChannelPrefix()}${nodeId}`;
  }
  topicChannel(topic: Topic): string {
    return `${this.topicChannelPrefix()}{${topic}}`;
  }
  topicChannelPrefix(): string {
    return `${this.prefix}:pub:tp:`;
  }
  presenceChannel(): string {
    return `${this.prefix}:pub:presence`;
  }
}
