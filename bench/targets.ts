import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Endpoint, TargetKind } from './ipc.js';

export interface TargetOptions {
  /** Run channeld from dist/ (npm run build) instead of the TypeScript sources. */
  readonly fromDist: boolean;
  /** Extra Node flags for the server process, e.g. --cpu-prof. */
  readonly nodeArgs: readonly string[];
}

export interface Target {
  readonly kind: TargetKind;
  readonly endpoint: Endpoint;
  readonly pid: number;
  /** SIGTERM, then SIGKILL if it has not exited after 20 s. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const PINO_WARN = 40;

function command(kind: TargetKind, options: TargetOptions): string[] {
  if (kind === 'baseline') return [...options.nodeArgs, '--import', 'tsx', 'bench/baseline/server.ts', '--host', HOST];
  const ports = ['--grpc-host', HOST, '--grpc-port', '0', '--http-host', HOST, '--http-port', '0', '--log-level', 'info'];
  if (options.fromDist) {
    if (!existsSync('dist/src/cli.js')) throw new Error('dist/src/cli.js is missing: run `npm run build` or drop --server dist');
    return [...options.nodeArgs, 'dist/src/cli.js', ...ports];
  }
  return [...options.nodeArgs, '--import', 'tsx', 'src/cli.ts', ...ports];
}

interface ReadyLine {
  readonly msg?: unknown;
  readonly level?: unknown;
  readonly grpcPort?: unknown;
  readonly httpPort?: unknown;
}

/** Starts a target as a child process and waits for its ready line (ports chosen by the OS). */
export function startTarget(kind: TargetKind, options: TargetOptions): Promise<Target> {
  const child: ChildProcess = spawn(process.execPath, command(kind, options), { stdio: ['ignore', 'pipe', 'inherit'] });
  const readyMsg = kind === 'channeld' ? 'channeld ready' : 'baseline ready';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} did not log "${readyMsg}" within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${kind} exited before it was ready (code ${code}, signal ${signal})`));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let parsed: ReadyLine;
      try {
        parsed = JSON.parse(line) as ReadyLine;
      } catch {
        process.stderr.write(`[${kind}] ${line}\n`);
        return;
      }
      // Warnings and errors from the server are worth seeing next to the numbers.
      if (typeof parsed.level === 'number' && parsed.level >= PINO_WARN) process.stderr.write(`[${kind}] ${line}\n`);
      if (ready || parsed.msg !== readyMsg) return;
      if (typeof parsed.grpcPort !== 'number' || typeof parsed.httpPort !== 'number') {
        reject(new Error(`${kind} ready line without ports: ${line}`));
        return;
      }
      ready = true;
      clearTimeout(timer);
      resolve({
        kind,
        endpoint: { kind, host: HOST, grpcPort: parsed.grpcPort, httpPort: parsed.httpPort },
        pid: child.pid!,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
