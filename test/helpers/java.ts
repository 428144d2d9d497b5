import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, type Availability, type Ran } from './go.js';

export const SDK_JAVA = join(ROOT, 'sdk', 'java');
export const MVN = process.env['MVN'] ?? 'mvn';
/**
 * The pom.xml whose dependencies the local Maven repository holds in full, once a build of it
 * succeeded online; with the same pom Maven then runs offline (-o), which skips its update checks.
 */
const RESOLVED_STAMP = join(ROOT, '.tools', 'java-resolved.sha256');

/**
 * Whether a JDK (javac) and Maven are there. Without them the tests fail under CI=true (a CI
 * machine that lost Java must not go green) and are skipped, loudly, on a developer machine.
 */
export function javaAvailability(): Availability {
  const fail = process.env['CI'] === 'true';
  const fix = 'apt-get install openjdk-17-jdk-headless maven';
  const javac = spawnSync('javac', ['-version'], { encoding: 'utf8' });
  if (javac.status !== 0) return { run: false, fail, why: `javac (a JDK >= 17) cannot run (${javac.error?.message ?? javac.stderr.trim()}); ${fix}` };
  const mvn = spawnSync(MVN, ['-v'], { encoding: 'utf8' });
  if (mvn.status !== 0) return { run: false, fail, why: `${MVN} cannot run (${mvn.error?.message ?? mvn.stderr.trim()}); ${fix} or set MVN` };
  return { run: true };
}

function pomHash(): string {
  return createHash('sha256').update(readFileSync(join(SDK_JAVA, 'pom.xml'))).digest('hex');
}

/**
 * `mvn test` in sdk/java with `env` added: offline when this pom's dependencies were all fetched
 * before, online (from Maven Central) otherwise, and online again if offline found something
 * missing (the local repository was pruned).
 */
export async function mavenTest(env: Record<string, string>): Promise<Ran> {
  rmSync(join(SDK_JAVA, 'target', 'surefire-reports'), { recursive: true, force: true });
  const hash = pomHash();
  const args = ['-B', '-q', '-Dstyle.color=never', '-f', join(SDK_JAVA, 'pom.xml'), 'test'];
  const resolved = existsSync(RESOLVED_STAMP) && readFileSync(RESOLVED_STAMP, 'utf8').trim() === hash;
  if (resolved) {
    const offline = await run(MVN, ['-o', ...args], { cwd: SDK_JAVA, env });
    if (!/offline mode|has not been downloaded from it before/i.test(offline.stdout + offline.stderr)) return offline;
  }
  const online = await run(MVN, args, { cwd: SDK_JAVA, env });
  // A failing test still means every artifact was found; only a resolution failure does not.
  if (!/Could not (resolve|find artifact|transfer)|Non-resolvable/i.test(online.stdout + online.stderr)) {
    mkdirSync(join(ROOT, '.tools'), { recursive: true });
    writeFileSync(RESOLVED_STAMP, `${hash}\n`);
  }
  return online;
}

export interface SurefireCase {
  readonly className: string;
  readonly name: string;
  readonly outcome: 'passed' | 'failed' | 'skipped';
  /** The failure, error or skip message, if any. */
  readonly detail: string;
}

/** Every test case in sdk/java/target/surefire-reports, from Surefire's XML reports. */
export function surefireCases(): SurefireCase[] {
  const dir = join(SDK_JAVA, 'target', 'surefire-reports');
  if (!existsSync(dir)) return [];
  const cases: SurefireCase[] = [];
  for (const file of readdirSync(dir).filter((f) => /^TEST-.*\.xml$/.test(f))) {
    const xml = readFileSync(join(dir, file), 'utf8');
    // A testcase is either self-closing (passed) or holds a <failure>, <error> or <skipped>.
    for (const m of xml.matchAll(/<testcase\s([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
      const attrs = m[1]!;
      const body = m[3] ?? '';
      const attr = (name: string): string => new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1] ?? '';
      const outcome = /<(failure|error)\b/.test(body) ? 'failed' : /<skipped\b/.test(body) ? 'skipped' : 'passed';
      const detail = unescapeXml(/\bmessage="([^"]*)"/.exec(body)?.[1] ?? '');
      cases.push({ className: attr('classname'), name: attr('name'), outcome, detail });
    }
  }
  return cases;
}

function unescapeXml(text: string): string {
  const named: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#x') || ref.startsWith('#X')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number(ref.slice(1)));
    return named[ref] ?? whole;
  });
}
