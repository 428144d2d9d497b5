import test from 'ava';
import { nginxAvailability, startNginx, type TestNginx } from './helpers/nginx.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const availability = nginxAvailability();
// .ci/run installs nginx: in CI its absence fails; locally it is a loud skip.
if (!availability.run && process.env['CI'] === 'true') test('proxy - nginx is installed (CI=true)', (t) => t.fail(availability.why));
else if (!availability.run) console.warn(`\n!!! SKIPPING reverse-proxy tests: ${availability.why} !!!\n`);
const proxyTest = availability.run ? test.serial : test.skip;

let ts: TestServer | undefined;
let nginx: TestNginx | undefined;

test.before(async () => {
  if (!availability.run) return;
  ts = await startTestServer();
  nginx = await startNginx(ts.server.httpPort);
});

test.after.always(async () => {
  await nginx?.stop();
  await ts?.close();
});

proxyTest('proxy - through nginx (the README recipe) a socket opens, gets its welcome and its messages, in order', async (t) => {
  const { token } = await ts!.createChannel('proxied');
  const socket = new RawSocket(`ws://127.0.0.1:${nginx!.port}/_ah/channel/ws`, token);
  t.teardown(() => socket.close());
  await socket.until(() => socket.welcome !== undefined, 'the welcome through nginx');
  for (let i = 1; i <= 20; i++) await ts!.send('proxied', `through the proxy ${i}`);
  await socket.untilMessages(20);
  t.deepEqual(
    socket.messages.map((m) => m.seq),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  t.is(socket.messages[19]!.data, 'through the proxy 20');
});

proxyTest('proxy - load balancer probes through nginx: HTTP/1.0 and HEAD answered', async (t) => {
  const http10 = await rawRequest(nginx!.port, 'GET /readyz HTTP/1.0\r\n\r\n');
  t.is(http10.status, 200, http10.text);
  t.is(http10.body, 'ready\n');
  const head = await rawRequest(nginx!.port, 'HEAD /healthz HTTP/1.1\r\nHost: lb\r\nConnection: close\r\n\r\n');
  t.is(head.status, 200, head.text);
  t.is(head.body, '');
});
