import { createServer } from 'node:net';
import test from 'ava';
import type { Ran } from './helpers/go.js';
import { javaAvailability, mavenTest, surefireCases, type SurefireCase } from './helpers/java.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { RawSocket } from './helpers/socket.js';

const API_KEY = 'java-backend-test-key';
const availability = javaAvailability();

if (!availability.run && availability.fail) {
  test('backend java - a JDK and Maven are installed (CI=true)', (t) => t.fail(availability.why));
} else if (!availability.run) {
  console.warn(`\n!!! SKIPPING Java backend tests: ${availability.why} !!!\n`);
}
const javaTest = availability.run ? test.serial : test.skip;

let ts: TestServer | undefined;
let maven: { ran: Ran; cases: SurefireCase[] } | undefined;
const sockets: RawSocket[] = [];

/** A port nobody listens on now, for the JUnit suite's servlet container to take. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

test.before(async (t) => {
  if (!availability.run) return;
  // The first run downloads the Maven plugins and dependencies; later ones run offline.
  t.timeout(10 * 60_000);
  const presencePort = await freePort();
  // The suite's Jetty starts after channeld; notices sent before it listens are retried.
  ts = await startTestServer({ apiKeys: [API_KEY], presenceWebhook: `http://127.0.0.1:${presencePort}` });
  const ran = await mavenTest({
    CHANNELD_GRPC_ADDR: `127.0.0.1:${ts.server.grpcPort}`,
    CHANNELD_API_KEY: API_KEY,
    CHANNELD_HTTP_URL: ts.httpUrl,
    CHANNELD_TEST_PRESENCE_PORT: String(presencePort),
  });
  maven = { ran, cases: surefireCases() };
});

test.after.always(async () => {
  for (const s of sockets) s.close();
  await ts?.close();
});

function results(): { ran: Ran; cases: SurefireCase[] } {
  if (maven === undefined) throw new Error('test.before did not run the Maven suite');
  return maven;
}

function outcomes(className: string, names: readonly string[]): Record<string, string> {
  const { cases } = results();
  return Object.fromEntries(
    names.map((name) => {
      const c = cases.find((x) => x.className === `com.github.channeld.channel.${className}` && x.name === name);
      return [name, c === undefined ? 'missing' : c.detail === '' ? c.outcome : `${c.outcome}: ${c.detail}`];
    }),
  );
}

function allPassed(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, 'passed']));
}

javaTest('backend java - mvn test passes (sdk/java with gen/java compiled in), nothing skipped', (t) => {
  const { ran, cases } = results();
  t.is(ran.code, 0, ran.stdout + ran.stderr);
  t.true(cases.length > 0, 'Surefire wrote its reports');
  t.deepEqual(
    cases.filter((c) => c.outcome !== 'passed').map((c) => `${c.className}.${c.name}: ${c.outcome} ${c.detail}`),
    [],
  );
});

javaTest('backend java - App Engine validation, the token alphabet, settings and presence parsing (unit)', (t) => {
  const limits = [
    'clientIdsOver256BytesAreRefusedWithAppEnginesText',
    'messagesOver32767BytesAreRefusedWithAppEnginesText',
    'durationsOutside1To1440AreRefusedWithAppEnginesText',
    'nullsAndUnpairedSurrogatesAreRefused',
    'onlyTheTokenAlphabetCanBeAToken',
    'notTokensForgetsAfterItsTimeAndDropsTheLeastRecentlyUsed',
    'settingsComeFromTheCallerThenPropertiesThenTheEnvironment',
  ];
  t.deepEqual(outcomes('LimitsTest', limits), allPassed(limits));
  const parser = [
    'readsTheFromFieldAndTellsConnectedFromThePath',
    'readsAnyWellFormedForm',
    'refusesWhatIsNotAPresenceNoticeAsAppEngineDid',
    'malformedOrHugeBodiesAreIoErrors',
    'parseMessageReadsKeyAndMsgAsAppEngineDid',
  ];
  t.deepEqual(outcomes('PresenceParserTest', parser), allPassed(parser));
});

javaTest('backend java - live: create, send by client id and by token to a real WebSocket, presence POSTs parsed by a servlet', (t) => {
  const live = [
    'createdTokensOpenSocketsAndMessagesArriveByClientIdAndByToken',
    'aClientIdShapedLikeATokenStaysAClientIdAndTheAnswerIsRemembered',
    'aRevokedTokensMessageIsDroppedSilently',
    'aTokenForALongClientIdIsLongerThan256BytesAndStillAddressesIt',
    'inputChanneldRefusesIsAnIllegalArgument',
    'aWrongApiKeyOrNoServerIsAChannelFailure',
    'presencePostsFromChanneldAreParsedByTheServletContainer',
  ];
  t.deepEqual(outcomes('LiveChannelServiceTest', live), allPassed(live));
});

javaTest('backend java - what the Java kit sent is in channeld, seen from outside the JVM', async (t) => {
  const server = ts;
  if (server === undefined) throw new Error('no server');
  // The suite's sockets never acked, so a fresh socket replays the channel from its start.
  const { token } = await server.createChannel('java-live-1');
  const socket = new RawSocket(server.wsUrl, token);
  sockets.push(socket);
  await socket.untilMessages(3);
  t.deepEqual(socket.messages, [
    { seq: 1, data: 'by client id \u2713' },
    { seq: 2, data: '{"by":"token"}' },
    { seq: 3, data: 'by the second token' },
  ]);
});
