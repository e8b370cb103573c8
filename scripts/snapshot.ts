/**
 * A V8 startup snapshot per function (dist/functions/<name>/snapshot.blob), which the image
 * starts with `node --snapshot-blob …`: the modules are already evaluated and their first-event
 * code compiled when the process starts, instead of being loaded on every cold start.
 *
 * Node can only snapshot heaps that hold no native handles, and its HTTP stack holds some
 * (`require('node:http')` in a snapshot build aborts V8). So the snapshot is built in two
 * phases from one esbuild bundle (CommonJS, where every module is a lazy initializer):
 *  - at build time, every module whose imports never reach an unsupported builtin is
 *    initialized (found from esbuild's metafile), then the pure first-event paths are run
 *    (snapshot-warmup.ts);
 *  - at start, the deserialized main function requires the function's entry — which initializes
 *    only what is left: node:http, express, functions-framework, the cloudevents SDK and our
 *    modules that import them — and serves (serve.ts).
 */
import { build, type Metafile } from 'esbuild';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';

/**
 * Builtins Node's snapshot builder supports without a warning (checked on Node 24: requiring
 * any other one either aborts the build, like node:http, or is "not yet fully verified", like
 * node:domain, node:async_hooks, node:tty and node:dns).
 */
const SNAPSHOT_SAFE_BUILTINS = new Set([
  'assert',
  'buffer',
  'crypto',
  'diagnostics_channel',
  'events',
  'fs',
  'net',
  'os',
  'path',
  'process',
  'querystring',
  'stream',
  'string_decoder',
  'timers',
  'timers/promises',
  'url',
  'util',
  'v8',
  'zlib',
]);

/** Packages that read the environment or the terminal when they load: left to run at start. */
const LOAD_TIME_ENVIRONMENT = /(^|\/)node_modules\/(debug|supports-color)\//;

/**
 * The bundle's inputs that may be initialized in the snapshot: used in the output, not JSON
 * data, and neither they nor anything they import (transitively) needs an unsupported builtin
 * or reads the environment at load.
 */
export function snapshotPreload(meta: Metafile, outfile: string): string[] {
  const output = Object.entries(meta.outputs).find(([k]) => k.endsWith(outfile));
  if (!output) throw new Error(`metafile has no output ${outfile}`);
  const used = new Set(
    Object.entries(output[1].inputs)
      .filter(([, v]) => v.bytesInOutput > 0)
      .map(([k]) => k),
  );
  const importers = new Map<string, string[]>();
  const excluded = new Set<string>();
  for (const [file, info] of Object.entries(meta.inputs)) {
    if (LOAD_TIME_ENVIRONMENT.test(file)) excluded.add(file);
    for (const imp of info.imports) {
      if (imp.external) {
        if (!SNAPSHOT_SAFE_BUILTINS.has(imp.path.replace(/^node:/, ''))) excluded.add(file);
        continue;
      }
      importers.set(imp.path, [...(importers.get(imp.path) ?? []), file]);
    }
  }
  const queue = [...excluded];
  while (queue.length > 0) {
    for (const importer of importers.get(queue.pop()!) ?? []) {
      if (!excluded.has(importer)) {
        excluded.add(importer);
        queue.push(importer);
      }
    }
  }
  // JSON data is left to its importers: one required at load is evaluated with the module that
  // requires it, one required lazily (iconv-lite's CJK code tables, ~400 KB) only when asked
  // for. Preloading every JSON would put data in each snapshot that no start reads.
  return Object.keys(meta.inputs).filter((f) => used.has(f) && !excluded.has(f) && !f.startsWith('<') && !f.endsWith('.json'));
}

/** The plain server entry (dist/functions/<fn>/server.cjs): the function, then serve. */
export const serverEntrySource = (fn: string): string =>
  `import './functions/${fn}/index.ts';\nimport { serve } from './scripts/serve.ts';\nserve();\n`;

/** The snapshot builder's entry: preload, warm up, and register what runs at start. */
export function snapshotEntrySource(fn: string, preload: string[]): string {
  return [
    "const { startupSnapshot } = require('node:v8');",
    ...preload.map((f) => `require(${JSON.stringify(`./${f}`)});`),
    "require('./scripts/snapshot-warmup.ts').warmUp().then(() => {",
    '  startupSnapshot.setDeserializeMainFunction(() => {',
    `    require('./functions/${fn}/index.ts');`,
    "    require('./scripts/serve.ts').serve();",
    '  });',
    '});',
    '',
  ].join('\n');
}

/**
 * Builds dist/functions/<fn>/snapshot-entry.cjs and, with `node` (the Node that will run it:
 * a blob only starts on the exact binary that wrote it), dist/functions/<fn>/snapshot.blob.
 */
export async function buildSnapshot(
  root: string,
  fn: string,
  /** The metafile of the function's server bundle (built from serverEntrySource) and its outfile. */
  server: { metafile: Metafile; outfile: string },
  options: { minify: boolean },
  node = process.execPath,
): Promise<void> {
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node' as const,
    target: 'node22',
    format: 'cjs' as const,
    logLevel: 'warning' as const,
    define: { KMF_FUNCTION: JSON.stringify(fn) },
    minifyWhitespace: options.minify,
    minifySyntax: options.minify,
  };
  const preload = snapshotPreload(server.metafile, server.outfile);
  const dir = path.join(root, 'dist', 'functions', fn);
  const entry = path.join(dir, 'snapshot-entry.cjs');
  await build({
    ...common,
    stdin: { contents: snapshotEntrySource(fn, preload), resolveDir: root, sourcefile: `functions/${fn}/snapshot.ts`, loader: 'ts' },
    outfile: entry,
  });
  await promisify(execFile)(node, ['--snapshot-blob', path.join(dir, 'snapshot.blob'), '--build-snapshot', entry], { cwd: root });
}
