import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { ChannelServiceClient } from '../../gen/ts/channel/v1/channel.js';
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
  readonly redisUrl: string;
  readonly prefix: string;
  readonly leaseSeconds?: number;
}

/** Starts the real CLI with the Redis engine on free ports; resolves when it logs "channeld ready". */
export async function startNode(options: NodeOptions): Promise<ClusterNode> {
  const args = [
    '--import', 'tsx', 'src/cli.ts',
    '--engine', 'redis', '--redis-url', options.redisUrl, '--redis-prefix', options.prefix,
    '--token-secret', CLUSTER_SECRET, '--node-lease-seconds', String(options.leaseSeconds ?? 3),
    '--grpc-port', '0', '--http-port', '0', '--http-host', '127.0.0.1', '--shutdown-grace-ms', '1000',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const logs: string[] = [];
  const ports = await new Promise<{ grpcPort: number; httpPort: number }>((resolve, reject) => {
    let buffer = '';
    child.once('exit', (code) => reject(new Error(`channeld exited early with ${code}: ${logs.join('\n')}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        const entry = JSON.parse(line) as { msg?: string; grpcPort?: number; httpPort?: number };
        if (entry.msg === 'channeld ready') resolve({ grpcPort: entry.grpcPort!, httpPort: entry.httpPort! });
      }
    });
  });
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
