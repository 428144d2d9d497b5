/**
 * The Node sender (`--node-senders`; the bench's default sender is the Go one, bench/loadgen):
 * one gRPC channel to the target, driving SendMessage, StreamMessages or
 * Broadcast at full speed (bounded by an in-flight window) or at a fixed rate. The coordinator can
 * close a gate when too much is sent but not yet delivered, so a slow receiver side cannot make
 * the server buffer without bound.
 */
import * as grpc from '@grpc/grpc-js';
import {
  ChannelServiceClient,
  type SendMessageRequest,
  type StreamMessagesRequest,
  type StreamMessagesResponse,
} from '../../gen/ts/channel/v1/channel.js';
import type { Endpoint, ProbeMethod, RunReply, RunSpec, SenderRequest } from '../ipc.js';
import { monotonicUs } from './histogram.js';
import { encodePayload } from './payload.js';
import { serveRequests } from './serve.js';

const PROGRESS_INTERVAL_MS = 25;
const SUBSCRIBE_CHUNK = 1000;
const READY_TIMEOUT_MS = 10_000;

let client: ChannelServiceClient | undefined;
let gateOpen = true;
let wake: () => void = () => undefined;
/** Units (expected deliveries) issued in the current run and not failed. */
let units = 0;

function connected(): ChannelServiceClient {
  if (client === undefined) throw new Error('not connected');
  return client;
}

function describe(err: grpc.ServiceError): string {
  return `${grpc.status[err.code] ?? err.code}: ${err.details}`;
}

async function connect(endpoint: Endpoint): Promise<void> {
  client?.close();
  if (endpoint.kind === 'centrifugo') throw new Error('the Node sender speaks ChannelService only: drop --node-senders for Centrifugo');
  client = new ChannelServiceClient(`${endpoint.host}:${endpoint.grpcPort}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const c = client;
  await new Promise<void>((resolve, reject) =>
    c.waitForReady(Date.now() + READY_TIMEOUT_MS, (err) => (err ? reject(err) : resolve())),
  );
}

async function mint(clientIds: readonly string[], concurrency: number): Promise<string[]> {
  const c = connected();
  const tokens = new Array<string>(clientIds.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < clientIds.length) {
      const i = next++;
      tokens[i] = await new Promise<string>((resolve, reject) =>
        c.createChannel({ clientId: clientIds[i]!, durationMinutes: 60 }, (err, res) =>
          err ? reject(new Error(`CreateChannel: ${describe(err)}`)) : resolve(res.token),
        ),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  return tokens;
}

async function subscribe(clientIds: readonly string[], topic: string): Promise<number> {
  const c = connected();
  let added = 0;
  for (let i = 0; i < clientIds.length; i += SUBSCRIBE_CHUNK) {
    added += await new Promise<number>((resolve, reject) =>
      c.subscribe({ clientIds: clientIds.slice(i, i + SUBSCRIBE_CHUNK), topic }, (err, res) =>
        err ? reject(new Error(`Subscribe: ${describe(err)}`)) : resolve(res.added),
      ),
    );
  }
  return added;
}

/** Whether the target implements `method` (anything but UNIMPLEMENTED counts as implemented). */
function probe(method: ProbeMethod): Promise<boolean> {
  const c = connected();
  return new Promise((resolve) => {
    if (method === 'http') {
      resolve(false);
      return;
    }
    if (method === 'sendMessages') {
      c.sendMessages({ requests: [] }, (err) => resolve(err?.code !== grpc.status.UNIMPLEMENTED));
      return;
    }
    if (method === 'broadcast') {
      c.broadcast({ message: 'probe', clientIds: [], topics: [] }, (err) => resolve(err?.code !== grpc.status.UNIMPLEMENTED));
      return;
    }
    const call = c.streamMessages();
    call.on('data', () => undefined);
    call.on('error', (err: grpc.ServiceError) => resolve(err.code !== grpc.status.UNIMPLEMENTED));
    call.on('status', (status: grpc.StatusObject) => resolve(status.code !== grpc.status.UNIMPLEMENTED));
    call.end();
  });
}

function run(spec: RunSpec): Promise<RunReply> {
  const c = connected();
  if (spec.kind === 'http-unary' || spec.kind === 'http-batch') return Promise.reject(new Error(`${spec.kind} needs the Go sender`));
  const count = spec.clients.length;
  const sentPerClient = new Array<number>(count).fill(0);
  const nextN = new Uint32Array(count);
  let inFlight = 0;
  let issued = 0;
  let calls = 0;
  let errors = 0;
  let firstError = '';
  let rr = 0;
  let stopped = false;
  let streamWritable = true;
  let finished = false;
  units = 0;
  const startUs = monotonicUs();

  const fail = (text: string): void => {
    errors++;
    units -= spec.unitsPerCall;
    if (firstError === '') firstError = text;
  };

  let stream: grpc.ClientDuplexStream<StreamMessagesRequest, StreamMessagesResponse> | undefined;
  /** The client slot of each message of each stream request in flight, by request id. */
  const streamSlots = new Map<number, number[]>();
  let nextId = 1;

  return new Promise((resolve) => {
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(tick);
      wake = () => undefined;
      resolve({
        sentPerClient: spec.kind === 'broadcast' ? [] : sentPerClient,
        calls,
        errors,
        firstError,
        elapsedMs: (monotonicUs() - startUs) / 1000,
      });
    };
    const maybeDone = (): void => {
      if (!stopped || inFlight > 0) return;
      if (stream !== undefined) stream.end();
      else finish();
    };
    const completed = (n = 1): void => {
      inFlight -= n;
      if (stopped) maybeDone();
      else pump();
    };

    const issueUnary = (): void => {
      const i = rr++ % count;
      const n = nextN[i]!++;
      const target = spec.clients[i]!;
      const message = encodePayload(target.clientIdx, n, monotonicUs(), spec.messageBytes);
      c.sendMessage({ target: { $case: 'clientId', value: target.clientId }, message, idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined }, (err) => {
        if (err) fail(`SendMessage: ${describe(err)}`);
        else {
          calls++;
          sentPerClient[i]!++;
        }
        completed();
      });
    };

    /** One SendMessages call of `spec.batch` messages; `inFlight` counts calls. */
    const issueBatch = (): void => {
      const slots: number[] = [];
      const requests: SendMessageRequest[] = [];
      for (let k = 0; k < spec.batch; k++) {
        const i = rr++ % count;
        const target = spec.clients[i]!;
        slots.push(i);
        requests.push({ target: { $case: 'clientId', value: target.clientId }, message: encodePayload(target.clientIdx, nextN[i]!++, monotonicUs(), spec.messageBytes), idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined });
      }
      c.sendMessages({ requests }, (err, res) => {
        if (err) for (const _ of slots) fail(`SendMessages: ${describe(err)}`);
        else if (res.results.length !== slots.length) for (const _ of slots) fail(`SendMessages: ${res.results.length} results for ${slots.length} messages`);
        else
          res.results.forEach((result, k) => {
            if (result.result?.$case === 'sent') {
              calls++;
              sentPerClient[slots[k]!]!++;
            } else fail(`SendMessages item: ${result.result?.$case === 'error' ? `${result.result.value.code} ${result.result.value.message}` : 'empty result'}`);
          });
        completed();
      });
    };

    const issueBroadcast = (): void => {
      const n = spec.nOffset + issued * spec.nStride;
      const message = encodePayload(-1, n, monotonicUs(), spec.messageBytes);
      c.broadcast({ message, clientIds: [], topics: [spec.topic] }, (err) => {
        if (err) fail(`Broadcast: ${describe(err)}`);
        else calls++;
        completed();
      });
    };

    /** One StreamMessages request: one message (`request`), or `spec.batch` of them (`requests`). */
    const issueStream = (s: grpc.ClientDuplexStream<StreamMessagesRequest, StreamMessagesResponse>, size: number): void => {
      const slots: number[] = [];
      const requests: SendMessageRequest[] = [];
      for (let k = 0; k < size; k++) {
        const i = rr++ % count;
        const n = nextN[i]!++;
        const target = spec.clients[i]!;
        slots.push(i);
        requests.push({ target: { $case: 'clientId', value: target.clientId }, message: encodePayload(target.clientIdx, n, monotonicUs(), spec.messageBytes), idempotencyKey: '', waitForDelivery: false, deliveryTimeout: undefined });
      }
      const id = nextId++;
      streamSlots.set(id, slots);
      const ok = s.write(spec.batch > 1 ? { id, request: undefined, requests } : { id, request: requests[0], requests: [] });
      if (!ok) {
        streamWritable = false;
        s.once('drain', () => {
          streamWritable = true;
          pump();
        });
      }
    };

    const pump = (): void => {
      while (!stopped && gateOpen && streamWritable && inFlight < spec.inFlight) {
        if (spec.rate > 0 && issued >= (spec.rate * (monotonicUs() - startUs)) / 1e6) break;
        const size = spec.kind === 'stream' || spec.kind === 'batch' ? Math.max(1, spec.batch) : 1;
        issued += size;
        // A batch takes one slot of the window (calls); a stream's window counts messages.
        inFlight += spec.kind === 'batch' ? 1 : size;
        units += spec.unitsPerCall * size;
        if (spec.kind === 'unary') issueUnary();
        else if (spec.kind === 'batch') issueBatch();
        else if (spec.kind === 'broadcast') issueBroadcast();
        else if (stream !== undefined) issueStream(stream, size);
      }
    };

    if (spec.kind === 'stream') {
      const s = c.streamMessages();
      stream = s;
      s.on('data', (res: StreamMessagesResponse) => {
        const slots = streamSlots.get(res.id);
        streamSlots.delete(res.id);
        if (slots === undefined) {
          fail(`StreamMessages: a response for unknown id ${res.id}`);
          completed();
          return;
        }
        const results = spec.batch > 1 ? res.results : [res.result];
        if (results.length !== slots.length) {
          for (const _ of slots) fail(`StreamMessages: ${results.length} results for ${slots.length} messages`);
          completed(slots.length);
          return;
        }
        results.forEach((result, k) => {
          if (result?.result?.$case === 'sent') {
            calls++;
            sentPerClient[slots[k]!]!++;
          } else {
            const e = result?.result?.$case === 'error' ? result.result.value : undefined;
            fail(`StreamMessages item: ${e === undefined ? 'empty result' : `${e.code} ${e.message}`}`);
          }
        });
        completed(slots.length);
      });
      s.on('error', (err: grpc.ServiceError) => {
        // Everything still in flight is lost with the stream.
        const lost = Math.max(1, [...streamSlots.values()].reduce((sum, slots) => sum + slots.length, 0));
        for (let k = 0; k < lost; k++) fail(`StreamMessages: ${describe(err)}`);
        streamSlots.clear();
        inFlight = 0;
        stopped = true;
        finish();
      });
      s.on('status', () => finish());
    }

    wake = pump;
    // The timer paces fixed-rate runs and restarts a full-speed run after the gate reopens.
    const tick = setInterval(pump, 1);
    setTimeout(() => {
      stopped = true;
      maybeDone();
    }, spec.durationMs);
    pump();
  });
}

setInterval(() => process.send?.({ type: 'sent', units }), PROGRESS_INTERVAL_MS).unref();

serveRequests<SenderRequest>(
  async (request) => {
    switch (request.type) {
      case 'connect':
        return connect(request.endpoint);
      case 'mint':
        return mint(request.clientIds, request.concurrency);
      case 'subscribe':
        return subscribe(request.clientIds, request.topic);
      case 'probe':
        return probe(request.method);
      case 'run':
        gateOpen = true;
        return run(request.spec);
      case 'disconnect':
        client?.close();
        client = undefined;
        return undefined;
      case 'gate':
        return undefined;
    }
  },
  (message) => {
    if (message.type === 'gate') {
      gateOpen = message.open;
      if (gateOpen) wake();
    }
  },
);
