// Builds the browser client: dist/client/jsapi.js (the classic script served at
// /_ah/channel/jsapi) and dist/client/channeld.mjs (the ES module).
//   node scripts/build-client.mjs             bundles only (well under a second); what tests run
//   node scripts/build-client.mjs --package   also lays out the npm package @channeld/client in
//                                             packages/client/dist: the same two bundles and the
//                                             .d.ts files tsc emits from src/client (about two
//                                             seconds more); `npm run build:client` does this
import { build } from 'esbuild';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
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

if (process.argv.includes('--package')) {
  const packageDir = `${root}packages/client`;
  const packageDist = `${packageDir}/dist`;
  await mkdir(packageDist, { recursive: true });
  // Byte for byte what the server serves at /_ah/channel/channeld.mjs and /_ah/channel/jsapi.
  // Swapped in whole, like the bundles: tests pack the package while other tests build it.
  for (const name of ['channeld.mjs', 'jsapi.js']) {
    const temp = `${packageDist}/${name}.${process.pid}.tmp`;
    await copyFile(`${outdir}/${name}`, temp);
    await rename(temp, `${packageDist}/${name}`);
  }

  const { default: ts } = await import('typescript');
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => fail([d]) };
  const parsed = ts.getParsedCommandLineOfConfigFile(`${packageDir}/tsconfig.json`, undefined, host);
  if (parsed.errors.length > 0) fail(parsed.errors);
  // Emitted afresh beside the old ones, then swapped in, so a module removed from src/client does
  // not linger in the package and a concurrent `npm pack` never sees half a directory.
  const typesDir = parsed.options.outDir;
  const fresh = `${typesDir}.${process.pid}.tmp`;
  const stale = `${typesDir}.${process.pid}.old`;
  await rm(fresh, { recursive: true, force: true });
  const program = ts.createProgram(parsed.fileNames, { ...parsed.options, outDir: fresh });
  const { diagnostics, emitSkipped } = program.emit();
  const all = [...ts.getPreEmitDiagnostics(program), ...diagnostics];
  if (emitSkipped || all.length > 0) fail(all);
  await rename(typesDir, stale).catch((error) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(fresh, typesDir);
  await rm(stale, { recursive: true, force: true });
  console.log(`packages/client/dist (bundles + types) in ${Math.round(performance.now() - started)} ms`);

  function fail(diagnostics) {
    console.error(ts.formatDiagnostics(diagnostics, ts.createCompilerHost({})));
    process.exit(1);
  }
}
