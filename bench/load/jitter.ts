/**
 * Jitter generator process: runs issue 8's jitter test (test/helpers/jitter.ts, the same code the
 * suite runs at a smaller size) against a target's nodes, with its own gRPC clients and sockets,
 * and replies with the report. Progress lines go to the coordinator as `log` messages.
 */
import * as grpc from '@grpc/grpc-js';
import { ChannelServiceClient } from '../../gen/ts/channel/v1/channel.js';
import { rpcFor } from '../../test/helpers/grpc.js';
import { runJitter, type JitterNode, type JitterReport } from '../../test/helpers/jitter.js';
import type { JitterRequest } from '../ipc.js';
import { serveRequests } from './serve.js';

/** Generous: a full-size run needs every client back and caught up after the last send. */
const DRAIN_TIMEOUT_MS = 120_000;

async function run(request: JitterRequest): Promise<JitterReport> {
  const clients = request.nodes.map((n) => new ChannelServiceClient(`${n.host}:${n.grpcPort}`, grpc.credentials.createInsecure()));
  const nodes: JitterNode[] = request.nodes.map((n, i) => ({ wsUrl: `ws://${n.host}:${n.httpPort}/_ah/channel/ws`, rpc: rpcFor(clients[i]!) }));
  try {
    return await runJitter(nodes, { ...request.size, drainTimeoutMs: DRAIN_TIMEOUT_MS, idPrefix: request.idPrefix }, (line) =>
      process.send?.({ type: 'log', line }),
    );
  } finally {
    for (const c of clients) c.close();
  }
}

serveRequests<JitterRequest>((request) => run(request));
