import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from './paths.js';

interface PackageJson {
  readonly version: string;
  readonly engines?: { readonly node?: string };
}

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as PackageJson;

/** channeld's version, from package.json. */
export const VERSION = pkg.version;

/**
 * Whether this Node.js is one channeld supports: package.json's engines range (">=20.19 <21"),
 * which follows the uWebSockets.js build it depends on, so swapping that build needs no code
 * change here. Returns the one-sentence explanation when it is not.
 */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const range = pkg.engines?.node ?? '';
  const min = /^>=\s*(\d+)\.(\d+)/.exec(range);
  const below = /<\s*(\d+)\s*$/.exec(range);
  const [major, minor] = version.split('.').map(Number) as [number, number];
  const tooOld = min !== null && (major < Number(min[1]) || (major === Number(min[1]) && minor < Number(min[2])));
  const tooNew = below !== null && major >= Number(below[1]);
  if (!tooOld && !tooNew) return undefined;
  return (
    `Node.js ${version} is not supported: channeld runs on Node.js ${range.replace(/\s+/g, ' ')} because the uWebSockets.js build it ` +
    'pins ships native binaries for those versions only (for Node 22 or 24, swap in the official uWebSockets.js build, which needs glibc 2.38 or later).'
  );
}
