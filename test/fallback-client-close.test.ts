import test from 'ava';
import { execFileSync } from 'node:child_process';
import { NodeClient } from './helpers/node-client.js';
import { startTestServer } from './helpers/server.js';

// The bundled client over the fallback transports (under Node: fetch for the event stream, the
// polls and the sends) when the server ends the connection while the client's acknowledgement is
// on its way: the send then finds the connection gone (404), and the close must still be the one
// the server sent down the stream or the poll (CloseChannel: 4503), never a loss followed by a
// reconnect that the revoked token turns into 'Invalid+token.'.

const RUNS = 20;

test.before(() => {
  execFileSync(process.execPath, ['scripts/build-client.mjs'], { stdio: 'ignore' });
});

for (const transport of ['poll', 'sse'] as const) {
  test(`fallback client (${transport}) - a CloseChannel racing the client's acknowledgement ends with 4503 every time, ${RUNS} runs`, async (t) => {
    const ts = await startTestServer();
    t.teardown(() => ts.close());
    const bad: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const clientId = `close-race-${transport}-${run}`;
      const { token } = await ts.createChannel(clientId);
      const client = await NodeClient.open(token, ts.httpUrl, { transport, ackIntervalMs: 0 });
      try {
        await client.until(() => client.has('open'), 'open');
        await ts.send(clientId, 'last words');
        await client.until(() => client.has('message'), 'the message');
        // The acknowledgement of the message leaves now; the close overtakes it.
        await ts.rpc.closeChannel({ clientId });
        await client.until(() => client.has('close'), 'the close');
        const errors = client.events.filter((e) => e.type === 'error').map((e) => `${e.code} ${e.description}`);
        const close = client.events.find((e) => e.type === 'close');
        if (close?.code !== 4503 || errors.some((e) => !e.startsWith('4503') && !e.startsWith('410'))) {
          bad.push(`run ${run}: close ${close?.code} ${close?.reason ?? ''}, errors ${errors.join('; ')}, reconnects ${client.events.filter((e) => e.type === 'reconnecting').length}`);
        }
      } finally {
        client.close();
      }
    }
    t.deepEqual(bad, []);
  });
}
