import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { withDefaults } from '../../../shared/rollout/defaults.js';
import {
  getValueFromIntOrPercent,
  IntOrStringError,
  maxSurgeOf,
  maxUnavailableOf,
  resolveFenceposts,
} from '../../../shared/rollout/intstr.js';
import type { IntOrString } from '../../../shared/rollout/types.js';
import { md } from './helpers.js';

test('withDefaults fills §8.2 defaults without touching the input', () => {
  const input = md();
  delete input.metadata.namespace;
  const snapshot = structuredClone(input);
  const d = withDefaults(input);
  assert.equal(input, snapshot);
  assert.is(d.spec.replicas, 1);
  assert.is(d.spec.minReadySeconds, 0);
  assert.is(d.spec.revisionHistoryLimit, 1);
  assert.is(d.spec.progressDeadlineSeconds, 600);
  assert.equal(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  assert.is(d.metadata.namespace, 'default');
});

test('withDefaults keeps set values, including zeros and percentages', () => {
  const d = withDefaults({
    metadata: { name: 'x', namespace: 'ns' },
    spec: { replicas: 0, minReadySeconds: 30, revisionHistoryLimit: 0, strategy: { rollingUpdate: { maxSurge: '25%' } } },
  });
  assert.is(d.spec.replicas, 0);
  assert.is(d.spec.minReadySeconds, 30);
  assert.is(d.spec.revisionHistoryLimit, 0);
  assert.equal(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
  assert.is(d.metadata.namespace, 'ns');
});

test('withDefaults: an empty strategy type becomes RollingUpdate; another type gets no rollingUpdate', () => {
  assert.is(withDefaults({ metadata: { name: 'x' }, spec: { strategy: { type: '' } } }).spec.strategy.type, 'RollingUpdate');
  const r = withDefaults({ metadata: { name: 'x' }, spec: { strategy: { type: 'Recreate' } } });
  assert.equal(r.spec.strategy, { type: 'Recreate' });
});

const SCALED: [IntOrString, number, boolean, number][] = [
  [3, 10, true, 3],
  [3, 10, false, 3],
  ['25%', 10, true, 3], // 2.5 up
  ['25%', 10, false, 2], // 2.5 down
  ['1%', 2, true, 1],
  ['1%', 2, false, 0],
  ['100%', 7, false, 7],
  ['0%', 7, true, 0],
  ['33%', 3, true, 1], // 0.99 up
  ['150%', 4, false, 6],
  ['+5%', 100, true, 5], // strconv.Atoi accepts a sign
];
for (const [v, total, up, want] of SCALED) {
  test(`getValueFromIntOrPercent(${JSON.stringify(v)}, ${total}, ${up ? 'up' : 'down'}) = ${want}`, () => {
    assert.is(getValueFromIntOrPercent(v, total, up), want);
  });
}

for (const bad of ['5', 'abc%', '5.5%', ' 5%', 1.5, true, null]) {
  test(`getValueFromIntOrPercent rejects ${JSON.stringify(bad)}`, () => {
    assert.throws(
      () => getValueFromIntOrPercent(bad as IntOrString, 10, true),
      (e: unknown) => e instanceof IntOrStringError,
    );
  });
}

// [maxSurge, maxUnavailable, replicas] → [surge, unavailable]; the Go comments' examples included.
const FENCEPOSTS: [IntOrString, IntOrString, number, number, number][] = [
  [1, 0, 3, 1, 0],
  ['0%', '1%', 2, 0, 1], // both round to 0 → unavailable 1
  ['0%', '1%', 1, 0, 1],
  ['1%', '25%', 2, 1, 0],
  ['1%', '25%', 1, 1, 0],
  ['1%', '0%', 2, 1, 0],
  ['25%', '25%', 10, 3, 2],
  ['0%', '10%', 5, 0, 1], // unavailable floor(0.5) = 0, surge 0 → 1
  [0, 2, 5, 0, 2],
  ['50%', '50%', 0, 0, 1], // 0 replicas: both 0 → 1 (MaxUnavailable clamps it to 0)
];
for (const [s, u, r, ws, wu] of FENCEPOSTS) {
  test(`resolveFenceposts(${JSON.stringify(s)}, ${JSON.stringify(u)}, ${r}) = ${ws}/${wu}`, () => {
    assert.equal(resolveFenceposts(s, u, r), { maxSurge: ws, maxUnavailable: wu });
  });
}

test('maxUnavailableOf: 0 for 0 replicas, clamped to replicas', () => {
  assert.is(maxUnavailableOf(withDefaults(md({ replicas: 0, maxSurge: '50%', maxUnavailable: '50%' }))), 0);
  assert.is(maxUnavailableOf(withDefaults(md({ replicas: 2, maxSurge: 0, maxUnavailable: 5 }))), 2);
  assert.is(maxUnavailableOf(withDefaults(md({ replicas: 10, maxSurge: '25%', maxUnavailable: '25%' }))), 2);
});

test('maxSurgeOf: resolved surge; 0 for a strategy other than RollingUpdate', () => {
  assert.is(maxSurgeOf(withDefaults(md({ replicas: 10, maxSurge: '25%', maxUnavailable: 0 }))), 3);
  const other = withDefaults({ ...md(), spec: { ...md().spec, strategy: { type: 'Recreate' } } });
  assert.is(maxSurgeOf(other), 0);
});

test.run();
