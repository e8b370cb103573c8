import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDifferences, parseQuantity, semanticDiff } from './semantic-equal.js';

const CI = { caseInsensitiveUnder: ['spec.template.spec'] };

test('equal objects give no differences, regardless of key order', () => {
  assert.equal(semanticDiff({ a: 1, b: { c: 'x' } }, { b: { c: 'x' }, a: 1 }), []);
});

test('a changed value is reported with its path', () => {
  const diffs = semanticDiff({ spec: { volumes: [{ name: 'a' }] } }, { spec: { volumes: [{ name: 'b' }] } });
  assert.equal(diffs, [{ path: 'spec.volumes[0].name', kind: 'changed', expected: 'a', actual: 'b' }]);
  assert.match(formatDifferences(diffs), '~ spec.volumes[0].name: expected "a", got "b"');
});

test('a missing key is reported with its path', () => {
  const diffs = semanticDiff({ metadata: { labels: { md: 'x', a: 'b' } } }, { metadata: { labels: { a: 'b' } } });
  assert.equal(diffs, [{ path: 'metadata.labels.md', kind: 'missing', expected: 'x' }]);
});

test('an extra key is reported with its path', () => {
  const diffs = semanticDiff({ spec: { a: 1 } }, { spec: { a: 1, runStrategy: 'Always' } });
  assert.equal(diffs, [{ path: 'spec.runStrategy', kind: 'extra', actual: 'Always' }]);
});

test('extra and missing array elements are reported by index', () => {
  assert.equal(semanticDiff([1, 2], [1]), [{ path: '[1]', kind: 'missing', expected: 2 }]);
  assert.equal(semanticDiff([1], [1, 3]), [{ path: '[1]', kind: 'extra', actual: 3 }]);
});

test('null, absent, {} and [] are equal; an empty string is not', () => {
  assert.equal(semanticDiff({ a: null, b: {}, c: [] }, { d: undefined }), []);
  assert.equal(semanticDiff({ annotations: null }, { annotations: {} }), []);
  assert.equal(semanticDiff({ affinity: {} }, {}), []);
  assert.equal(semanticDiff({ v: '' }, {}).length, 1);
  assert.equal(semanticDiff({}, { v: '' }).length, 1);
});

test('a non-empty value against null is missing/extra', () => {
  assert.equal(semanticDiff({ a: null }, { a: { b: 1 } }), [{ path: 'a', kind: 'extra', actual: { b: 1 } }]);
  assert.equal(semanticDiff({ a: [1] }, { a: null }), [{ path: 'a', kind: 'missing', expected: [1] }]);
});

test('quantities under requests/limits compare by value', () => {
  const exp = { resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { memory: '1024Mi' } } };
  const act = { resources: { requests: { cpu: 2, memory: '2048Mi' }, limits: { memory: '1Gi' } } };
  assert.equal(semanticDiff(exp, act), []);
  const diffs = semanticDiff({ requests: { memory: '2Gi' } }, { requests: { memory: '2G' } });
  assert.equal(
    diffs.map((d) => d.path),
    ['requests.memory'],
  );
});

test('outside quantity maps, "2" and 2 differ', () => {
  assert.equal(semanticDiff({ labels: { a: '2' } }, { labels: { a: 2 } }).length, 1);
  assert.equal(semanticDiff({ maxSkew: 1 }, { maxSkew: '1' }).length, 1);
});

test('keys match case-insensitively only below the configured path', () => {
  const exp = { spec: { template: { spec: { topologyspreadconstraints: [{ maxskew: 1 }] } } } };
  const act = { spec: { template: { spec: { topologySpreadConstraints: [{ maxSkew: 1 }] } } } };
  assert.equal(semanticDiff(exp, act, CI), []);
  // Without the option the same pair differs.
  assert.equal(
    semanticDiff(exp, act)
      .map((d) => d.kind)
      .sort(),
    ['extra', 'missing'],
  );
  // Above the configured path keys stay case-sensitive.
  const top = semanticDiff({ spec: { runstrategy: 'Once' } }, { spec: { runStrategy: 'Once' } }, CI);
  assert.equal(top.map((d) => d.path).sort(), ['spec.runStrategy', 'spec.runstrategy']);
});

test('case-insensitive matching still detects value changes', () => {
  const exp = { spec: { template: { spec: { topologyspreadconstraints: [{ maxskew: 1 }] } } } };
  const act = { spec: { template: { spec: { topologySpreadConstraints: [{ maxSkew: 2 }] } } } };
  assert.equal(semanticDiff(exp, act, CI), [
    { path: 'spec.template.spec.topologySpreadConstraints[0].maxSkew', kind: 'changed', expected: 1, actual: 2 },
  ]);
});

test('parseQuantity understands the Kubernetes suffixes and rejects other strings', () => {
  assert.is(parseQuantity('10Gi'), 10 * 2 ** 30);
  assert.is(parseQuantity('500m'), 0.5);
  assert.is(parseQuantity('1e3'), 1000);
  assert.is(parseQuantity('2k'), 2000);
  assert.is(parseQuantity(3), 3);
  assert.is(parseQuantity('ReadWriteMany'), undefined);
  assert.is(parseQuantity('10GB'), undefined);
});

test.run();
