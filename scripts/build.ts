/**
 * One esbuild bundle per function (dist/functions/<name>/index.js) plus the CLI.
 * functions-framework stays external: its CLI loads our bundle and the bundle must register
 * into that same module instance. Everything else (zod, cloudevents, yaml) is bundled.
 */
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSnapshot, serverEntrySource } from './snapshot.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function functionNames(): string[] {
  return readdirSync(path.join(root, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, 'functions', d.name, 'index.ts')))
    .map((d) => d.name);
}

export async function buildAll(): Promise<string[]> {
  rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  const entries = functionNames().map((n) => `functions/${n}/index.ts`);
  const common = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node' as const,
    target: 'node22',
    format: 'esm' as const,
    sourcemap: true,
    logLevel: 'warning' as const,
    // Bundled CommonJS dependencies call require(); give ESM output one.
    banner: {
      js: "import { createRequire as __kmfCreateRequire } from 'node:module'; const require = __kmfCreateRequire(import.meta.url);",
    },
  };
  await build({ ...common, entryPoints: entries, outdir: 'dist', outbase: '.', external: ['@google-cloud/functions-framework'] });
  await build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outdir: 'dist',
    outbase: '.',
    external: ['@google-cloud/functions-framework', 'tsx'],
  });
  // Self-contained servers (functions-framework bundled in), each followed by the V8 startup
  // snapshot the image starts it from (scripts/snapshot.ts), chosen from the server's metafile.
  await Promise.all(
    functionNames().map(async (n) => {
      const outfile = `dist/functions/${n}/server.cjs`;
      const server = await build({
        ...common,
        stdin: {
          contents: serverEntrySource(n),
          resolveDir: root,
          sourcefile: `functions/${n}/server.ts`,
          loader: 'ts',
        },
        // CommonJS on purpose: in an ES module every `import … from 'node:http'` builds an ESM
        // facade of the builtin, whose lazy `WebSocket` getter loads undici (~50 ms of a ~190 ms
        // load); `require` does not.
        format: 'cjs',
        banner: {},
        outfile,
        define: { KMF_FUNCTION: JSON.stringify(n) },
        minifyWhitespace: true,
        minifySyntax: true,
        metafile: true,
      });
      await buildSnapshot(root, n, { metafile: server.metafile, outfile }, { minify: true });
    }),
  );
  return entries;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t = performance.now();
  const entries = await buildAll();
  console.log(`built ${entries.length} function bundle(s) and the CLI in ${Math.round(performance.now() - t)} ms`);
}
