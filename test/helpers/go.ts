import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Signal } from './wait.js';

export const ROOT = join(import.meta.dirname, '..', '..');
/** Where test binaries built from Go go; Go's own build cache makes rebuilding them cheap. */
export const GO_TEST_BIN = join(ROOT, '.tools', 'go-test');
export const GRPCURL = process.env['GRPCURL'] ?? join(ROOT, '.tools', 'bin', 'grpcurl');

// The official tarball's place, for environments whose PATH lacks it.
const GO_FALLBACK = '/usr/local/go/bin/go';
export const GO = process.env['GO'] ?? (spawnSync('go', ['version']).status !== 0 && existsSync(GO_FALLBACK) ? GO_FALLBACK : 'go');

export type Availability = { run: true } | { run: false; fail: boolean; why: string };

/**
 * Whether the Go toolchain is there. Without it the tests fail under CI=true (a CI machine that
 * lost Go must not go green) and are skipped, loudly, on a developer machine.
 */
export function goAvailability(): Availability {
  const probe = spawnSync(GO, ['version'], { encoding: 'utf8' });
  if (probe.status === 0) return { run: true };
  return { run: false, fail: process.env['CI'] === 'true', why: `cannot run ${GO} (${probe.error?.message ?? probe.stderr.trim()}); install Go >= 1.26 or set GO` };
}

/** Whether grpcurl (scripts/install-go-tools.sh, or $GRPCURL) is there; same CI rule as Go. */
export function grpcurlAvailability(): Availability {
  const fail = process.env['CI'] === 'true';
  if (!existsSync(GRPCURL)) return { run: false, fail, why: `${GRPCURL} not found; run scripts/install-go-tools.sh (or set GRPCURL)` };
  const probe = spawnSync(GRPCURL, ['-version'], { encoding: 'utf8' });
  if (probe.status !== 0) return { run: false, fail, why: `${GRPCURL} -version failed: ${probe.stderr.trim()}` };
  return { run: true };
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a non-zero exit is a result, not an exception. */
export function run(file: string, args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') reject(err);
        else resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
      },
    );
    // A program that exits without reading stdin makes the write fail with EPIPE; its exit code
    // already tells the story, so that error must not become an uncaught exception.
    child.stdin?.on('error', () => undefined);
    if (opts.input === undefined) child.stdin?.end();
    else child.stdin?.end(opts.input);
  });
}

/**
 * Builds a Go main package (`go build`) or a package's tests (`go test -c`) into .tools/go-test.
 * Modules come through the Go module proxy; GOTOOLCHAIN=local so no toolchain is downloaded.
 */
export async function goBuild(kind: 'build' | 'test', dir: string, name: string): Promise<string> {
  mkdirSync(GO_TEST_BIN, { recursive: true });
  const out = join(GO_TEST_BIN, name);
  const args = kind === 'build' ? ['build', '-o', out, '.'] : ['test', '-c', '-o', out, '.'];
  const built = await run(GO, args, { cwd: join(ROOT, dir), env: { GOTOOLCHAIN: 'local' } });
  if (built.code !== 0) throw new Error(`go ${args.join(' ')} in ${dir} failed:\n${built.stderr}`);
  return out;
}

/** A long-running process whose stdout lines are read as they come, for tests to wait on. */
export class LineProcess {
  readonly lines: string[] = [];
  stderr = '';
  exitCode: number | null | undefined;
  private readonly child: ChildProcess;
  private readonly signal = new Signal();

  constructor(
    readonly name: string,
    file: string,
    args: readonly string[],
    env: Record<string, string> = {},
  ) {
    this.child = spawn(file, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.signal.notify();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    this.child.once('exit', (code) => {
      this.exitCode = code;
      this.signal.notify();
    });
  }

  /** The first line at or after `from` that matches; throws if the process exits first. */
  async line(match: (line: string) => boolean, what: string, from = 0): Promise<{ line: string; index: number }> {
    const find = (): number => this.lines.findIndex((l, i) => i >= from && match(l));
    await this.signal.until(
      () => find() >= 0 || this.exitCode !== undefined,
      `${this.name}: ${what}`,
      () => `stdout: ${this.lines.join('\n').slice(-1000)}\nstderr: ${this.stderr.slice(-1500)}`,
      20_000,
    );
    const index = find();
    if (index < 0) throw new Error(`${this.name} exited ${this.exitCode} before ${what}; stderr:\n${this.stderr}`);
    return { line: this.lines[index]!, index };
  }

  /** Text of all stdout so far (for processes that print multi-line JSON). */
  get stdout(): string {
    return this.lines.join('\n');
  }

  async waitFor(predicate: () => boolean, what: string): Promise<void> {
    await this.signal.until(
      () => predicate() || this.exitCode !== undefined,
      `${this.name}: ${what}`,
      () => `stdout: ${this.stdout.slice(-1000)}\nstderr: ${this.stderr.slice(-1500)}`,
      20_000,
    );
    if (!predicate()) throw new Error(`${this.name} exited ${this.exitCode} before ${what}; stderr:\n${this.stderr}`);
  }

  /** Stops the process (SIGTERM) and resolves with its exit. */
  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill('SIGTERM');
    await this.signal.until(() => this.exitCode !== undefined, `${this.name} to exit`);
  }
}
