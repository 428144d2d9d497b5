import test from 'ava';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumAvailability } from './helpers/browser.js';
import { GO, goAvailability, grpcurlAvailability, ROOT, run, type Availability, type Ran } from './helpers/go.js';
import { javaAvailability, MVN } from './helpers/java.js';
import { nginxAvailability } from './helpers/nginx.js';
import { pythonAvailability } from './helpers/python.js';
import { HARNESS_RUNNERS } from './helpers/readme-harness.js';
import { inNetns, netnsAvailability, readmeSnippets, snippets, type Snippet } from './helpers/readme-snippets.js';
import { redisAvailability } from './helpers/redis.js';

// Every fenced code block of README.md runs as written against a live channeld, each in a network
// namespace of its own so it can use the default ports (test/helpers/readme-harness.ts runs it and
// checks what it did). A block says how it runs by a `<!-- readme-test: NAME -->` comment on the
// line before its fence, or by its language; a block that says neither fails the first test below.

const HARNESS = join(ROOT, 'test', 'helpers', 'readme-harness.ts');
/** What a block runs with when it has no marker. */
const BY_LANGUAGE: Record<string, string> = { python: 'python', go: 'go', java: 'java', sh: 'shell', bash: 'shell', shell: 'shell' };
/** Blocks checked here without running anything. */
const STATIC = ['layout'];

function runnerOf(snippet: Snippet): string | undefined {
  const name = snippet.marker ?? BY_LANGUAGE[snippet.lang];
  return name !== undefined && (HARNESS_RUNNERS.includes(name) || STATIC.includes(name)) ? name : undefined;
}

const all = readmeSnippets();

test('readme snippets - every fenced block of README.md is run by this file', (t) => {
  const uncovered = all.filter((s) => runnerOf(s) === undefined);
  t.deepEqual(
    uncovered.map((s) => `README.md:${s.line}: a \`\`\`${s.lang} block ${s.marker === undefined ? 'with no marker' : `marked "${s.marker}", which no runner has`}`),
    [],
    `not covered: put <!-- readme-test: NAME --> on the line before the fence, NAME one of ${[...HARNESS_RUNNERS, ...STATIC].join(', ')} (test/helpers/readme-harness.ts), or add a runner`,
  );
  t.true(all.length >= 10, `only ${all.length} blocks found: is the fence parser broken?`);
});

test('readme snippets - a block no runner knows is not covered; markers, languages and fences are read as CommonMark has them', (t) => {
  const sample = [
    '<!-- readme-test: node-backend -->',
    '```js',
    'one',
    '```',
    '',
    '<!-- readme-test: no-such-runner -->',
    '~~~~sh',
    '```',
    '~~~~',
    '```ruby',
    'puts 1',
    '```',
    '```Python title="x"',
    'print(1)',
    '```',
  ].join('\n');
  const found = snippets(sample);
  t.deepEqual(
    found.map((s) => [s.line, s.lang, s.marker, s.code, runnerOf(s)]),
    [
      [2, 'js', 'node-backend', 'one\n', 'node-backend'],
      [7, 'sh', 'no-such-runner', '```\n', undefined],
      [10, 'ruby', undefined, 'puts 1\n', undefined],
      [13, 'python', undefined, 'print(1)\n', 'python'],
    ],
  );
});

test('readme snippets - the layout names directories that exist', (t) => {
  const layout = all.filter((s) => s.marker === 'layout');
  t.is(layout.length, 1);
  for (const line of layout[0]!.code.split('\n').filter((l) => l.trim() !== '')) {
    const path = line.split(/\s+/)[0]!;
    t.true(existsSync(join(ROOT, path)), `${path} (from "${line.trim()}") does not exist`);
  }
});

test('readme snippets - `npm ci` and `npm test` of "Two commands" are what CI runs on a clean clone', (t) => {
  const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
  t.regex(ci, /^npm ci\b/m);
  t.regex(ci, /^npm test\b/m);
});

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'channeld-readme-'));
}

async function must(what: string, ran: Promise<Ran>): Promise<void> {
  const done = await ran;
  if (done.code !== 0) throw new Error(`${what} exited ${done.code}:\n${done.stdout}\n${done.stderr}`);
}

/** A fresh `npm init -y` project whose `npm install` is this repository's node_modules, with proto/ copied in. */
async function nodeProject(file: string, code: string): Promise<string> {
  const dir = tmp();
  await must('npm init -y', run('npm', ['init', '-y'], { cwd: dir }));
  // npm 10 leaves "type" out, npm 11 writes "commonjs": either way .js files are CommonJS there.
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string };
  if (manifest.type === 'module') throw new Error('npm init -y wrote "type": "module"; the test means a CommonJS project');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  cpSync(join(ROOT, 'proto'), join(dir, 'proto'), { recursive: true });
  writeFileSync(join(dir, file), code);
  return dir;
}

function snippetFile(snippet: Snippet): string {
  const file = /^\/\/ (\S+\.mjs)\b/.exec(snippet.code)?.[1];
  if (file === undefined) throw new Error(`README.md:${snippet.line}: the Node snippet's first line no longer names its file`);
  return file;
}

/** Work done outside the namespace (it has no network): projects, builds, class paths. */
const prepare: Record<string, (snippet: Snippet) => Promise<string>> = {
  'node-backend': (snippet) => nodeProject(snippetFile(snippet), snippet.code),
  'node-fanout': async (snippet) => {
    const base = all.find((s) => s.marker === 'node-backend');
    if (base === undefined) throw new Error('the fan-out snippet continues the node-backend one, which is gone');
    return nodeProject(snippetFile(base), `${base.code}\n${snippet.code}`);
  },
  go: async (snippet) => {
    const dir = tmp();
    // examples/go's module file, its replace lines aimed at this checkout; the program is the snippet.
    const mod = readFileSync(join(ROOT, 'examples', 'go', 'go.mod'), 'utf8')
      .replace(/^module .*$/m, 'module readme.example/snippet')
      .replaceAll('../../', `${ROOT}/`);
    writeFileSync(join(dir, 'go.mod'), mod);
    cpSync(join(ROOT, 'examples', 'go', 'go.sum'), join(dir, 'go.sum'));
    writeFileSync(join(dir, 'main.go'), snippet.code);
    await must('go build', run(GO, ['build', '-o', 'snippet', '.'], { cwd: dir, env: { GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' } }));
    return dir;
  },
  java: async (snippet) => {
    const dir = tmp();
    const pom = join(ROOT, 'sdk', 'java', 'pom.xml');
    // The SDK's runtime class path from Maven; the SDK itself compiled here, so sdk/java/target
    // (which the Java backend test builds at the same time) is left alone.
    const classpath = join(dir, 'deps');
    const args = ['-B', '-q', '-f', pom, 'dependency:build-classpath', '-Dmdep.includeScope=runtime', `-Dmdep.outputFile=${classpath}`];
    const offline = await run(MVN, ['-o', ...args]);
    if (offline.code !== 0) await must('mvn dependency:build-classpath', run(MVN, args));
    const sources = (root: string): string[] =>
      (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.java')).map((f) => join(root, f));
    const sdk = [...sources(join(ROOT, 'sdk', 'java', 'src', 'main', 'java')), ...sources(join(ROOT, 'gen', 'java'))];
    const deps = readFileSync(classpath, 'utf8').trim();
    // The statements as a backend's code runs them; the JVM is ended after them because the SDK's
    // shared gRPC channel lives as long as the process.
    const lines = snippet.code.split('\n');
    const imports = lines.filter((l) => l.startsWith('import '));
    const body = lines.filter((l) => !l.startsWith('import '));
    writeFileSync(
      join(dir, 'Snippet.java'),
      `${imports.join('\n')}\n\npublic class Snippet {\n  public static void main(String[] args) throws Exception {\n${body.join('\n')}\n    System.exit(0);\n  }\n}\n`,
    );
    await must('javac', run('javac', ['-nowarn', '-encoding', 'UTF-8', '-cp', deps, '-d', dir, ...sdk, join(dir, 'Snippet.java')]));
    writeFileSync(join(dir, 'classpath'), deps);
    return dir;
  },
};

/** What each runner needs besides a network namespace. */
function needs(runner: string): Availability {
  const checks: Availability[] = [netnsAvailability()];
  if (runner === 'python') checks.push(pythonAvailability());
  if (runner === 'go') checks.push(goAvailability());
  if (runner === 'grpcurl') checks.push(grpcurlAvailability());
  if (runner.startsWith('browser')) checks.push(chromiumAvailability());
  if (runner === 'java') checks.push(javaAvailability());
  if (runner === 'cluster' || runner === 'sharded') {
    const redis = redisAvailability();
    checks.push(redis.run ? { run: true } : { run: false, fail: redis.fail, why: redis.why });
  }
  if (runner === 'nginx') {
    const nginx = nginxAvailability();
    checks.push(nginx.run ? { run: true } : { run: false, fail: process.env['CI'] === 'true', why: nginx.why });
  }
  return checks.find((a) => !a.run) ?? { run: true };
}

for (const snippet of all) {
  const runner = runnerOf(snippet);
  if (runner === undefined || STATIC.includes(runner)) continue;
  const title = `readme snippets - README.md:${snippet.line} (\`\`\`${snippet.lang}, ${runner}) runs as written and does what the README says`;
  const availability = needs(runner);
  if (!availability.run) {
    if (availability.fail) test(title, (t) => t.fail(availability.why));
    else {
      console.warn(`\n!!! SKIPPING README.md:${snippet.line} (${runner}): ${availability.why} !!!\n`);
      test.skip(title, () => undefined);
    }
    continue;
  }
  test.serial(title, async (t) => {
    t.timeout(6 * 60_000);
    const work = await (prepare[runner]?.(snippet) ?? Promise.resolve(tmp()));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const [file, ...args] = inNetns([process.execPath, '--import', 'tsx', HARNESS, runner, String(snippet.line), work]);
    const ran = await run(file!, args);
    // A snippet's process that had to be killed (see Group.stop) is told, not hidden.
    if (ran.stderr.includes('!!!')) t.log(ran.stderr);
    t.is(ran.code, 0, `README.md:${snippet.line} (${runner}):\n${ran.stderr}${ran.stdout}`);
  });
}
