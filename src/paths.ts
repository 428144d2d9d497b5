import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, found from this file whether it runs from src/ (tsx) or dist/src/ (built). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the channeld package root');
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot();
export const PROTO_ROOT = join(PROJECT_ROOT, 'proto');
export const CLIENT_BUILD_DIR = join(PROJECT_ROOT, 'dist', 'client');
export const DEMO_PAGE = join(PROJECT_ROOT, 'src', 'gateway', 'demo', 'index.html');
