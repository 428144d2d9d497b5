import { execFileSync } from 'node:child_process';
import type { Launch } from './fleet.js';

/** The Go load generator (bench/loadgen), built from the module proxy's pinned modules. */
const LOADGEN_BINARY = 'bench/loadgen/bin/loadgen';

/**
 * Builds bench/loadgen (a no-op when nothing changed: Go caches the build) and says how to start
 * it; or the Node sender with --node-senders.
 */
export function senderLaunch(nodeSenders: boolean): Launch {
  if (nodeSenders) return { kind: 'fork', script: './load/sender.ts' };
  try {
    execFileSync('go', ['build', '-o', 'bin/loadgen', '.'], {
      cwd: 'bench/loadgen',
      env: { ...process.env, GOTOOLCHAIN: 'local', PATH: `${process.env['PATH'] ?? ''}:/usr/local/go/bin` },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (err) {
    throw new Error(`cannot build the Go load generator in bench/loadgen (${err instanceof Error ? err.message : String(err)}): install Go >= 1.26 (scripts/install-bench-tools.sh), or use --node-senders`);
  }
  return { kind: 'exec', command: LOADGEN_BINARY, args: [] };
}
