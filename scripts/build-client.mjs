// Builds the browser client: dist/client/jsapi.js (the classic script served at
// /_ah/channel/jsapi) and dist/client/channeld.mjs (the ES module).
//   node scripts/build-client.mjs           bundles only (well under a second)
//   node scripts/build-client.mjs --types   also writes channeld.d.mts + types/ (about a second more)
import { build } from 'esbuild';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/client`;

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'browser',
  legalComments: 'none',
  logLevel: 'warning',
  // Written below, atomically: test files build concurrently while servers read the bundles.
  write: false,
  // tsconfig's NodeNext settings are for Node; esbuild only needs the sources.
  tsconfig: 'src/client/tsconfig.json',
};

const started = performance.now();
const results = await Promise.all([
  build({
    ...common,
    entryPoints: ['src/client/jsapi-entry.ts'],
    outfile: `${outdir}/jsapi.js`,
    format: 'iife',
    target: 'es2017',
    minify: true,
    sourcemap: false,
  }),
  build({
    ...common,
    entryPoints: ['src/client/index.ts'],
    outfile: `${outdir}/channeld.mjs`,
    format: 'esm',
    target: 'es2020',
    minify: false,
    sourcemap: false,
  }),
]);

await mkdir(outdir, { recursive: true });
for (const { outputFiles } of results) {
  for (const { path, contents } of outputFiles) {
    const temp = `${path}.${process.pid}.tmp`;
    await writeFile(temp, contents);
    await rename(temp, path);
    console.log(`${path.slice(root.length)}  ${(contents.byteLength / 1024).toFixed(1)} KiB`);
  }
}
console.log(`client built in ${Math.round(performance.now() - started)} ms`);

if (process.argv.includes('--types')) {
  const { default: ts } = await import('typescript');
  const program = ts.createProgram([`${root}src/client/index.ts`], {
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2020.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: [],
    strict: true,
    skipLibCheck: true,
    declaration: true,
    emitDeclarationOnly: true,
    outDir: `${outdir}/types`,
  });
  const { diagnostics, emitSkipped } = program.emit();
  if (emitSkipped || diagnostics.length > 0) {
    console.error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost({})));
    process.exit(1);
  }
  await writeFile(`${outdir}/channeld.d.mts`, "export * from './types/index.js';\n");
  console.log(`types written in ${Math.round(performance.now() - started)} ms`);
}
