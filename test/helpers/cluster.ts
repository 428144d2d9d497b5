import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { ChannelServiceClient } from '../../gen/ts/channel/v1/channel.js';
import { spawnCli, type CliProcess } from './cli.js';
import { rpcFor, type Rpc } from './grpc.js';

export const CLUSTER_SECRET = 'cluster-test-secret-0123456789';

/** One channeld process of a test cluster, with a gRPC client to it. */
export interface ClusterNode {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly wsUrl: string;
  readonly client: ChannelServiceClient;
  readonly rpc: Rpc;
  readonly logs: string[];
  /** SIGKILL: the node dies without a word, as a crashed machine would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  /** The one Redis; with `redisShards` or `redisClusterNodes` only its credentials count. */
  readonly redisUrl?: string;
  /** Independent Redis instances (--redis-shard), in the same order on every node. */
  readonly redisShards?: readonly string[];
  /** Redis Cluster nodes host:port (--redis-cluster-node). */
  readonly redisClusterNodes?: readonly string[];
  /** Hash tags over a Redis Cluster (--redis-partitions); the engine's default when absent. */
  readonly redisPartitions?: number;
  readonly prefix: string;
  readonly leaseSeconds?: number;
}

/** The CLI flags that point a node at its Redis, its shards or its Redis Cluster. */
function redisArgs(options: NodeOptions): string[] {
  return [
    ...(options.redisUrl === undefined ? [] : ['--redis-url', options.redisUrl]),
    ...(options.redisShards ?? []).flatMap((url) => ['--redis-shard', url]),
    ...(options.redisClusterNodes ?? []).flatMap((node) => ['--redis-cluster-node', node]),
    ...(options.redisPartitions === undefined ? [] : ['--redis-partitions', String(options.redisPartitions)]),
  ];
}

/** Starts the real CLI with the Redis engine on free ports; resolves when it logs "channeld ready". */
export async function startNode(options: NodeOptions): Promise<ClusterNode> {
  return clusterNode(
    await spawnCli([
      '--engine', 'redis', ...redisArgs(options), '--redis-prefix', options.prefix,
      '--token-secret', CLUSTER_SECRET, '--node-lease-seconds', String(options.leaseSeconds ?? 3),
      '--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1', '--shutdown-grace-ms', '1000',
    ]),
  );
}

/** Starts the real CLI with the memory engine in its own process, for tests that want the clients and the server apart. */
export async function startMemoryNode(extraArgs: readonly string[] = []): Promise<ClusterNode> {
  return clusterNode(
    await spawnCli([
      '--engine', 'memory', '--token-secret', CLUSTER_SECRET,
      '--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1', '--shutdown-grace-ms', '1000', ...extraArgs,
    ]),
  );
}

function clusterNode({ child, grpcPort, httpPort, logs }: CliProcess): ClusterNode {
  const ports = { grpcPort, httpPort };
  const client = new ChannelServiceClient(`127.0.0.1:${ports.grpcPort}`, grpc.credentials.createInsecure());
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    client.close();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  return {
    child,
    ...ports,
    wsUrl: `ws://127.0.0.1:${ports.httpPort}/_ah/channel/ws`,
    client,
    rpc: rpcFor(client),
    logs,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}
