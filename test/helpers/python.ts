import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Signal } from './wait.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const VENV_PYTHON = join(ROOT, '.tools', 'venv', 'bin', 'python');
/** What a Python backend puts on sys.path to use the stubs and the App Engine module. */
export const PYTHONPATH = [join(ROOT, 'gen', 'python'), join(ROOT, 'sdk', 'python')].join(':');

/**
 * Whether the Python toolchain (scripts/install-python-tools.sh) is there. Without it the tests
 * fail under CI=true and are skipped, loudly, on a developer machine.
 */
export function pythonAvailability(): { run: true } | { run: false; fail: boolean; why: string } {
  const fix = 'run scripts/install-python-tools.sh (needs python3 with venv)';
  const fail = process.env['CI'] === 'true';
  if (!existsSync(VENV_PYTHON)) return { run: false, fail, why: `${VENV_PYTHON} not found; ${fix}` };
  const probe = spawnSync(VENV_PYTHON, ['-c', 'import grpc, google.protobuf'], { encoding: 'utf8' });
  if (probe.status !== 0) return { run: false, fail, why: `grpcio/protobuf do not import in ${VENV_PYTHON}: ${probe.stderr.trim()}; ${fix}` };
  return { run: true };
}

export type PyLine = Record<string, unknown> & { event: string };

/** A Python program's output read as it comes: every stdout line, and those that are JSON objects. */
export class PythonProcess {
  readonly text: string[] = [];
  readonly lines: PyLine[] = [];
  stderr = '';
  exitCode: number | null | undefined;
  private readonly child: ChildProcess;
  private readonly signal = new Signal();

  constructor(script: string, args: readonly string[], env: Record<string, string>) {
    this.child = spawn(VENV_PYTHON, [script, ...args], {
      cwd: ROOT,
      env: { ...process.env, PYTHONUNBUFFERED: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.text.push(line);
      if (line.startsWith('{')) this.lines.push(JSON.parse(line) as PyLine);
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

  /** The nth line (from 0) of this event, waiting for it; throws if the program exits first. */
  async next(event: string, nth = 0): Promise<PyLine> {
    const find = (): PyLine | undefined => this.all(event)[nth];
    await this.signal.until(
      () => find() !== undefined || this.exitCode !== undefined,
      `python's "${event}" line #${nth}`,
      () => `lines: ${JSON.stringify(this.lines).slice(-400)} stderr: ${this.stderr.slice(-1500)}`,
      30_000,
    );
    const line = find();
    if (line === undefined) throw new Error(`python exited ${this.exitCode} before "${event}" #${nth}; stderr:\n${this.stderr}`);
    return line;
  }

  /** The first stdout line matching pattern, waiting for it. */
  async untilText(pattern: RegExp): Promise<RegExpExecArray> {
    const find = (): RegExpExecArray | undefined => {
      for (const line of this.text) {
        const match = pattern.exec(line);
        if (match !== null) return match;
      }
      return undefined;
    };
    await this.signal.until(
      () => find() !== undefined || this.exitCode !== undefined,
      `python output matching ${pattern}`,
      () => `stdout: ${this.text.join('\n').slice(-1000)} stderr: ${this.stderr.slice(-1500)}`,
      30_000,
    );
    const match = find();
    if (match === undefined) throw new Error(`python exited ${this.exitCode} before printing ${pattern}; stderr:\n${this.stderr}`);
    return match;
  }

  all(event: string): PyLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  async exited(): Promise<number | null> {
    await this.signal.until(() => this.exitCode !== undefined, 'python to exit', () => this.stderr.slice(-1500), 30_000);
    return this.exitCode ?? null;
  }

  /** SIGTERM, and the exit code once it exited. */
  async stop(): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill('SIGTERM');
    return this.exited();
  }
}
