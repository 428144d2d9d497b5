import { spawn, type ChildProcess } from 'node:child_process';

export interface CliProcess {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Every JSON log line so far (stdout). */
  readonly logs: string[];
}

/** Starts `src/cli.ts` with `args` in its own process; resolves when it logs "channeld ready". */
export function spawnCli(args: readonly string[]): Promise<CliProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const logs: string[] = [];
  let buffer = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`channeld exited early with ${code}: ${logs.join('\n')}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        const entry = JSON.parse(line) as { msg?: string; grpcPort?: number; httpPort?: number };
        if (entry.msg === 'channeld ready') resolve({ child, grpcPort: entry.grpcPort!, httpPort: entry.httpPort!, logs });
      }
    });
  });
}
