import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { crc32 } from 'node:zlib';

/** One module to serve: its path, the version to serve it as, and the directory holding it. */
export interface ServedModule {
  readonly path: string;
  readonly version: string;
  readonly dir: string;
}

/**
 * Writes a GOPROXY=file://… directory serving `modules` the way proxy.golang.org serves a tagged
 * module (`@v/list`, `.info`, `.mod`, `.zip`), so a test can fetch this repository's Go modules
 * exactly as a user outside it would, with no replace directive and no network.
 */
export function writeModuleProxy(root: string, modules: readonly ServedModule[]): void {
  for (const mod of modules) {
    const at = join(root, escapeModulePath(mod.path), '@v');
    mkdirSync(at, { recursive: true });
    writeFileSync(join(at, 'list'), `${mod.version}\n`);
    writeFileSync(join(at, `${mod.version}.info`), JSON.stringify({ Version: mod.version, Time: '2026-01-01T00:00:00Z' }));
    writeFileSync(join(at, `${mod.version}.mod`), readFileSync(join(mod.dir, 'go.mod')));
    const files = moduleFiles(mod.dir).map((file) => ({
      name: `${mod.path}@${mod.version}/${relative(mod.dir, file).split('\\').join('/')}`,
      data: readFileSync(file),
    }));
    writeFileSync(join(at, `${mod.version}.zip`), storedZip(files));
  }
}

/** The proxy protocol's case encoding: each capital letter becomes "!" and its lower case. */
function escapeModulePath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** What `go mod download` would put in the module zip: every file, but no nested module. */
function moduleFiles(dir: string, top = dir): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry === 'vendor' || entry.startsWith('.')) continue;
      if (path !== top && readdirSync(path).includes('go.mod')) continue;
      files.push(...moduleFiles(path, top));
    } else {
      files.push(path);
    }
  }
  return files.sort();
}

/** A zip archive of `files`, stored without compression (all Go's module zip reader needs). */
function storedZip(files: readonly { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of files) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
