import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './go.js';

export const README = join(ROOT, 'README.md');

/** One fenced code block of a Markdown file. */
export interface Snippet {
  /** The info string's first word (`js`, `sh`, …); '' for a bare fence. */
  readonly lang: string;
  /** NAME of a `<!-- readme-test: NAME -->` comment on the line before the fence, if any. */
  readonly marker: string | undefined;
  readonly code: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

const MARKER = /^<!--\s*readme-test:\s*([\w-]+)\s*-->$/;

/** Every fenced block (``` or ~~~, CommonMark's rules for the closing fence), in order. */
export function snippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]!);
    if (open === null) continue;
    const fence = open[1]!;
    const before = i > 0 ? MARKER.exec(lines[i - 1]!.trim()) : null;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[j]!)) body.push(lines[j++]!);
    found.push({ lang: open[2]!.toLowerCase(), marker: before?.[1], code: `${body.join('\n')}\n`, line: i + 1 });
    i = j;
  }
  return found;
}

export function readmeSnippets(): Snippet[] {
  return snippets(readFileSync(README, 'utf8'));
}

/**
 * Each snippet runs as written, on channeld's default ports (gRPC 50051, HTTP 8080; Redis 6379),
 * in a network namespace of its own: a fresh loopback where those ports are free whatever else
 * runs on this machine, and from which nothing leaves it.
 */
export function netnsAvailability(): { run: true } | { run: false; fail: boolean; why: string } {
  const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (probe.status === 0) return { run: true };
  const why = `cannot make a network namespace (unshare -n, as root, with iproute2): ${probe.error?.message ?? probe.stderr.trim()}`;
  return { run: false, fail: process.env['CI'] === 'true', why };
}

/** argv that runs `command` in a new network namespace with its loopback up. */
export function inNetns(command: readonly string[]): string[] {
  return ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'netns', ...command];
}
