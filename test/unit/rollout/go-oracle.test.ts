/**
 * Cross-check against the real thing: testdata/oracle runs Go's hash/fnv and
 * k8s.io/apimachinery v0.36.3 (SafeEncodeString, IntOrString scaling, label selector validation,
 * parsing and matching, label key/value rules) on the same cases. Skipped when `go` or the
 * module (offline, from the local module cache) is unavailable.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { computeTemplateHash, fnv1a32, safeEncodeString } from '../../../shared/rollout/hash.js';
import { getValueFromIntOrPercent } from '../../../shared/rollout/intstr.js';
import { isQualifiedName, isValidLabelValue, parseSelector, selectorMatches } from '../../../shared/rollout/labels.js';
import type { LabelSelector } from '../../../shared/rollout/types.js';
import { validateLabelSelector } from '../../../shared/rollout/validate.js';

const HASHES: { text: string; collisionCount?: number }[] = [
  { text: '' },
  { text: 'foobar' },
  { text: '{"metadata":{"labels":{"app":"workers"}},"spec":{"x":1}}' },
  { text: 'héllo wörld ✓' },
  { text: 'x', collisionCount: 0 },
  { text: 'x', collisionCount: 1 },
  { text: 'x', collisionCount: 65536 },
];

const INTSTRS: { value: unknown; total: number; roundUp: boolean }[] = [];
for (const value of [
  0,
  1,
  3,
  -2,
  '0%',
  '1%',
  '25%',
  '33%',
  '50%',
  '99%',
  '100%',
  '150%',
  '-10%',
  '+5%',
  '5',
  'abc%',
  '%',
  '5.5%',
  1.5,
  2147483648,
  true,
]) {
  for (const total of [0, 1, 2, 3, 7, 10]) for (const roundUp of [true, false]) INTSTRS.push({ value, total, roundUp });
}

const LABELS = { app: 'workers', tier: 'gpu', 'example.com/zone': 'a', empty: '' };
const SELECTORS: LabelSelector[] = [
  {},
  { matchLabels: { app: 'workers' } },
  { matchLabels: { app: 'other' } },
  { matchLabels: { empty: '' } },
  { matchLabels: { 'example.com/zone': 'a', tier: 'gpu' } },
  { matchExpressions: [{ key: 'tier', operator: 'In', values: ['cpu', 'gpu'] }] },
  { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gpu'] }] },
  { matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['x'] }] },
  { matchExpressions: [{ key: 'example.com/zone', operator: 'Exists' }] },
  { matchExpressions: [{ key: 'missing', operator: 'DoesNotExist' }] },
  { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] },
  { matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] },
  { matchExpressions: [{ key: 'tier', operator: 'Exists', values: ['x'] }] },
  { matchExpressions: [{ key: 'tier', operator: 'Gt', values: ['1'] }] },
  { matchExpressions: [{ key: 'bad key', operator: 'Exists' }] },
  { matchExpressions: [{ key: 'tier', operator: 'In', values: ['bad value!', 'ok'] }] },
  { matchLabels: { 'a/b/c': 'x' } },
  { matchLabels: { 'UPPER.example.com/x': 'y' } },
  { matchLabels: { '/x': 'y' } },
  { matchLabels: { app: '-bad-' } },
  { matchLabels: { app: 'workers' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['cpu'] }] },
];

const KEYS = [
  'app',
  'a/b/c',
  '/x',
  'x/',
  'example.com/Name',
  'Example.com/n',
  '-a',
  'a'.repeat(63),
  'a'.repeat(64),
  `${'a'.repeat(254)}/x`,
  'my.name',
  '',
];
const VALUES = ['', 'ok', 'My_Value-1.2', '-bad', 'bad-', 'sp ace', 'v'.repeat(63), 'v'.repeat(64)];

interface OracleOut {
  hashes: { hash: string; encoded: string }[];
  intstrs: ({ value: number } | { error: string })[];
  selectors: { errors: string[]; parses: boolean; matches: boolean }[];
  labelKeys: (string[] | null)[];
  labelValues: (string[] | null)[];
}

function runOracle(): OracleOut | undefined {
  const dir = fileURLToPath(new URL('./testdata/oracle/', import.meta.url));
  const res = spawnSync('go', ['run', '.'], {
    cwd: dir,
    input: JSON.stringify({
      hashes: HASHES,
      intstrs: INTSTRS,
      selectors: SELECTORS.map((selector) => ({ selector, labels: LABELS })),
      labelKeys: KEYS,
      labelValues: VALUES,
    }),
    encoding: 'utf8',
    timeout: 300_000,
    // Never download: the toolchain and modules must already be local.
    env: { ...process.env, GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
  });
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'ENOENT') {
    console.log('  (go not found: apimachinery cross-check skipped)');
    return undefined;
  }
  if (res.status !== 0 && /GOPROXY=off|cannot find module|missing go\.sum entry/.test(res.stderr)) {
    console.log('  (k8s.io/apimachinery not in the local module cache: cross-check skipped)');
    return undefined;
  }
  assert.is(res.status, 0, res.stderr);
  return JSON.parse(res.stdout) as OracleOut;
}

test('live cross-check with Go and k8s.io/apimachinery (skipped without them)', () => {
  const out = runOracle();
  if (!out) return;

  HASHES.forEach((c, i) => {
    // The same FNV-1a + collision bytes as computeTemplateHash, over the raw text.
    let h = fnv1a32(new TextEncoder().encode(c.text));
    if (c.collisionCount !== undefined) {
      const extra = new Uint8Array(8);
      new DataView(extra.buffer).setUint32(0, c.collisionCount, true);
      h = fnv1a32(extra, h);
    }
    assert.equal({ hash: String(h), encoded: safeEncodeString(String(h)) }, out.hashes[i], `hash of ${JSON.stringify(c)}`);
  });
  // computeTemplateHash hashes the canonical JSON: the same bytes give the oracle's answer.
  assert.is(computeTemplateHash({ metadata: { labels: { app: 'workers' } }, spec: { x: 1 } }), out.hashes[2].hash);

  INTSTRS.forEach((c, i) => {
    let got: { value: number } | { error: true };
    try {
      got = { value: getValueFromIntOrPercent(c.value as never, c.total, c.roundUp) };
    } catch {
      got = { error: true };
    }
    const want = out.intstrs[i];
    assert.equal(got, 'error' in want ? { error: true } : want, `intstr ${JSON.stringify(c)}: Go says ${JSON.stringify(want)}`);
  });

  SELECTORS.forEach((sel, i) => {
    const want = out.selectors[i];
    // Our messages are `<path>: <body>`; Go's ErrorBody is the body.
    const bodies = validateLabelSelector(sel, 'spec.selector').map((e) => e.message.slice(e.field.length + 2));
    assert.equal(bodies, want.errors, `validation of ${JSON.stringify(sel)}`);
    assert.is(parseSelector(sel).ok, want.parses, `parses ${JSON.stringify(sel)}`);
    if (want.parses) assert.is(selectorMatches(sel, LABELS), want.matches, `matches ${JSON.stringify(sel)}`);
  });

  KEYS.forEach((k, i) => assert.equal(isQualifiedName(k), out.labelKeys[i] ?? [], `key ${JSON.stringify(k)}`));
  VALUES.forEach((v, i) => assert.equal(isValidLabelValue(v), out.labelValues[i] ?? [], `value ${JSON.stringify(v)}`));
});

test.run();
