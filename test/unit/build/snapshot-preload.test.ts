import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Metafile } from 'esbuild';
import { snapshotEntrySource, snapshotPreload } from '../../../scripts/snapshot.js';

type Imports = Record<string, string[]>;

/** A metafile from an import graph: `node:` paths are external builtins; `unused` are in no output. */
function metafile(graph: Imports, unused: string[] = []): Metafile {
  const inputs: Metafile['inputs'] = {};
  for (const [file, imports] of Object.entries(graph)) {
    inputs[file] = {
      bytes: 1,
      imports: imports.map((p) =>
        p.startsWith('node:') ? { path: p, kind: 'require-call' as const, external: true } : { path: p, kind: 'import-statement' as const },
      ),
    };
  }
  const outInputs = Object.fromEntries(Object.keys(graph).map((f) => [f, { bytesInOutput: unused.includes(f) ? 0 : 10 }]));
  return { inputs, outputs: { 'out.cjs': { bytes: 1, inputs: outInputs, imports: [], exports: [] } } };
}

test('modules that reach node:http, directly or through imports, are left to start time', () => {
  const meta = metafile({
    'functions/f/index.ts': ['shared/kube/rest.ts', 'shared/providerspec/parse.ts'],
    'shared/kube/rest.ts': ['node:https', 'shared/kube/paths.ts'],
    'shared/kube/paths.ts': [],
    'shared/providerspec/parse.ts': ['node_modules/zod/index.js', 'node:crypto'],
    'node_modules/zod/index.js': [],
  });
  assert.equal(snapshotPreload(meta, 'out.cjs').sort(), [
    'node_modules/zod/index.js',
    'shared/kube/paths.ts',
    'shared/providerspec/parse.ts',
  ]);
});

test('builtins the snapshot builder does not verify (domain, async_hooks, tty, dns) exclude their importers', () => {
  const meta = metafile({
    'a.js': ['node:domain'],
    'b.js': ['node:async_hooks'],
    'c.js': ['node:tty'],
    'd.js': ['node:dns/promises'],
    'e.js': ['node:zlib', 'node:events', 'node:timers/promises'],
    'f.js': ['a.js'],
  });
  assert.equal(snapshotPreload(meta, 'out.cjs'), ['e.js']);
});

test('packages reading the environment at load (debug, supports-color) and their importers are excluded', () => {
  const meta = metafile({
    'node_modules/debug/src/index.js': [],
    'node_modules/router/lib/layer.js': ['node_modules/debug/src/index.js'],
    'node_modules/supports-color/index.js': [],
    'node_modules/mime-types/index.js': ['node_modules/mime-db/db.json'],
    'node_modules/mime-db/db.json': [],
  });
  assert.equal(snapshotPreload(meta, 'out.cjs'), ['node_modules/mime-types/index.js']);
});

test('JSON data is never preloaded on its own: its importer evaluates it, or nothing does (lazy tables)', () => {
  const meta = metafile({
    'node_modules/mime-db/index.js': ['node_modules/mime-db/db.json'],
    'node_modules/mime-db/db.json': [],
    'node_modules/iconv-lite/encodings/dbcs-data.js': ['node_modules/iconv-lite/encodings/tables/cp936.json'],
    'node_modules/iconv-lite/encodings/tables/cp936.json': [],
  });
  assert.equal(snapshotPreload(meta, 'out.cjs').sort(), [
    'node_modules/iconv-lite/encodings/dbcs-data.js',
    'node_modules/mime-db/index.js',
  ]);
});

test('inputs tree-shaken out of the bundle are not preloaded', () => {
  const meta = metafile({ 'node_modules/zod/v4/locales/he.js': [], 'node_modules/zod/v4/core/schemas.js': [] }, [
    'node_modules/zod/v4/locales/he.js',
  ]);
  assert.equal(snapshotPreload(meta, 'out.cjs'), ['node_modules/zod/v4/core/schemas.js']);
});

test('the entry preloads, warms up, then defers the function and serve() to the deserialized main', () => {
  const src = snapshotEntrySource('machine', ['shared/providerspec/parse.ts']);
  const at = (s: string) => src.indexOf(s);
  assert.ok(at('require("./shared/providerspec/parse.ts")') > 0);
  assert.ok(at('snapshot-warmup.ts') > at('require("./shared/providerspec/parse.ts")'));
  assert.ok(at('setDeserializeMainFunction') > at('snapshot-warmup.ts'));
  assert.ok(at("require('./functions/machine/index.ts')") > at('setDeserializeMainFunction'));
});

test('a metafile without the named output is an error', () => {
  assert.throws(() => snapshotPreload(metafile({ 'a.js': [] }), 'other.cjs'), /no output other\.cjs/);
});

test.run();
