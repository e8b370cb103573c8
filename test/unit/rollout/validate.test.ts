import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSelector, selectorMatches } from '../../../shared/rollout/labels.js';
import type { LabelSelector, MachineDeployment } from '../../../shared/rollout/types.js';
import { validateMachineDeployment, validateMachineSet } from '../../../shared/rollout/validate.js';
import { md, ms } from './helpers.js';

const messages = (d: MachineDeployment) => validateMachineDeployment(d).map((i) => i.message);
function withSpec(patch: Partial<MachineDeployment['spec']>): MachineDeployment {
  const d = md({ replicas: 3 });
  d.spec = { ...d.spec, ...patch };
  return d;
}

// ---- selector semantics -------------------------------------------------------------------

const LABELS = { app: 'workers', tier: 'gpu', zone: 'a' };
const MATCHES: [string, LabelSelector, boolean][] = [
  ['matchLabels equal', { matchLabels: { app: 'workers' } }, true],
  ['matchLabels differs', { matchLabels: { app: 'other' } }, false],
  ['matchLabels absent key', { matchLabels: { missing: 'x' } }, false],
  ['In hit', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['cpu', 'gpu'] }] }, true],
  ['In miss', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['cpu'] }] }, false],
  ['In absent key', { matchExpressions: [{ key: 'nope', operator: 'In', values: ['x'] }] }, false],
  ['NotIn hit', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gpu'] }] }, false],
  ['NotIn miss', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['cpu'] }] }, true],
  ['NotIn absent key matches', { matchExpressions: [{ key: 'nope', operator: 'NotIn', values: ['x'] }] }, true],
  ['Exists', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, true],
  ['Exists absent', { matchExpressions: [{ key: 'nope', operator: 'Exists' }] }, false],
  ['DoesNotExist', { matchExpressions: [{ key: 'nope', operator: 'DoesNotExist' }] }, true],
  ['DoesNotExist present', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, false],
  ['all must hold', { matchLabels: { app: 'workers' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }, false],
  ['empty selects everything', {}, true],
  ['unknown operator selects nothing', { matchExpressions: [{ key: 'zone', operator: 'Gt', values: ['1'] }] }, false],
];
for (const [name, sel, want] of MATCHES) {
  test(`selector: ${name}`, () => assert.is(selectorMatches(sel, LABELS), want));
}

test('parseSelector: errors for operator, empty In values, values on Exists, bad key', () => {
  assert.is(parseSelector({ matchExpressions: [{ key: 'a', operator: 'Gt' }] }).ok, false);
  assert.is(parseSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }).ok, false);
  assert.is(parseSelector({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }).ok, false);
  assert.is(parseSelector({ matchLabels: { 'bad key': 'x' } }).ok, false);
  assert.is(parseSelector({ matchLabels: { a: 'bad value!' } }).ok, false);
  const ok = parseSelector(undefined);
  assert.ok(ok.ok && ok.everything);
});

// ---- MachineDeployment ----------------------------------------------------------------------

test('a defaulted example MachineDeployment is valid', () => {
  assert.equal(validateMachineDeployment(md()), []);
  assert.equal(validateMachineDeployment(md({ replicas: 0, maxSurge: '25%', maxUnavailable: '25%' })), []);
  assert.equal(validateMachineDeployment(md({ replicas: 5, maxSurge: 0, maxUnavailable: 1 })), []);
  assert.equal(validateMachineDeployment(md({ replicas: 5, maxSurge: '0%', maxUnavailable: '100%' })), []);
});

const INVALID: [string, Partial<MachineDeployment['spec']>, string[]][] = [
  ['empty selector', { selector: {} }, ['spec.selector: Invalid value: {}: empty selector is not valid for MachineDeployment.']],
  ['no selector at all', { selector: undefined }, ['spec.selector: Invalid value: {}: empty selector is not valid for MachineDeployment.']],
  [
    'selector not matching the template',
    { selector: { matchLabels: { app: 'other' } } },
    ['spec.template.metadata.labels: Invalid value: {"app":"workers"}: `selector` does not match template `labels`'],
  ],
  [
    'matchExpressions not matching the template',
    { selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['workers'] }] } },
    ['spec.template.metadata.labels: Invalid value: {"app":"workers"}: `selector` does not match template `labels`'],
  ],
  ['negative replicas', { replicas: -1 }, ['spec.replicas: Invalid value: -1: replicas must be specified and can not be negative']],
  ['fractional replicas', { replicas: 1.5 }, ['spec.replicas: Invalid value: 1.5: replicas must be specified and can not be negative']],
  ['Recreate', { strategy: { type: 'Recreate' } }, ['spec.strategy.Type: Invalid value: "Recreate": is an invalid type']],
  [
    'both zero',
    { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } },
    ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
  ],
  [
    'both zero percent',
    { strategy: { rollingUpdate: { maxSurge: '0%', maxUnavailable: '0%' } } },
    ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "0%": may not be 0 when `maxSurge` is 0'],
  ],
  [
    'maxUnavailable above 100%',
    { strategy: { rollingUpdate: { maxUnavailable: '150%' } } },
    ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": should not be more than 100%'],
  ],
  [
    'negative surge',
    { strategy: { rollingUpdate: { maxSurge: -1, maxUnavailable: 1 } } },
    ['spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: value should not be negative'],
  ],
  [
    'negative percentage',
    { strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: '-10%' } } },
    ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: -10: value should not be negative'],
  ],
  [
    'string without %',
    { strategy: { rollingUpdate: { maxSurge: '5', maxUnavailable: 1 } } },
    ['spec.strategy.rollingUpdate.maxSurge: Invalid value: "5": value should be int(5) or percentage(5%)'],
  ],
  [
    'malformed surge and zero unavailable (Go reports both)',
    { strategy: { rollingUpdate: { maxSurge: 'x%', maxUnavailable: 0 } } },
    [
      'spec.strategy.rollingUpdate.maxSurge: Invalid value: "x%": value should be int(5) or percentage(5%)',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
    ],
  ],
];
for (const [name, patch, want] of INVALID) {
  test(`invalid MachineDeployment: ${name}`, () => assert.equal(messages(withSpec(patch)), want));
}

test('an absolute maxUnavailable above 100 is allowed (clamped to replicas later)', () => {
  assert.equal(messages(withSpec({ strategy: { rollingUpdate: { maxSurge: 0, maxUnavailable: 150 } } })), []);
});

test('selector shape errors come first, then "invalid label selector." instead of the template check', () => {
  const got = messages(
    withSpec({
      selector: {
        matchExpressions: [
          { key: 'app', operator: 'In', values: [] },
          { key: 'x', operator: 'Gt' },
        ],
      },
    }),
  );
  assert.equal(got, [
    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    'spec.selector.matchExpressions[1].operator: Invalid value: "Gt": not a valid selector operator',
    'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"In","values":[]},{"key":"x","operator":"Gt"}]}: invalid label selector.',
  ]);
});

test('Exists with values is Forbidden; bad keys and values carry Kubernetes wording', () => {
  const got = validateMachineDeployment(
    withSpec({
      selector: { matchLabels: { 'a/b/c': 'x', ok: 'bad value' }, matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] },
    }),
  );
  const byField = got.map((i) => `${i.field} ${i.type}`);
  assert.equal(byField, [
    'spec.selector.matchLabels Invalid',
    'spec.selector.matchLabels Invalid',
    'spec.selector.matchExpressions[0].values Forbidden',
    'spec.selector Invalid',
  ]);
  assert.match(got[0].message, "a valid label key must consist of alphanumeric characters, '-', '_' or '.'");
  assert.match(got[0].message, "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is");
  assert.match(got[1].message, 'a valid label must be an empty string or consist of alphanumeric characters');
  assert.is(
    got[2].message,
    "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
  );
});

test('issues carry field, type, value and detail separately', () => {
  const [i] = validateMachineDeployment(withSpec({ replicas: -2 }));
  assert.equal(i, {
    field: 'spec.replicas',
    type: 'Invalid',
    value: -2,
    detail: 'replicas must be specified and can not be negative',
    message: 'spec.replicas: Invalid value: -2: replicas must be specified and can not be negative',
  });
});

test('fields Go could not decode are reported by name', () => {
  const d = withSpec({ minReadySeconds: '10' as unknown as number, paused: 'yes' as unknown as boolean });
  assert.equal(messages(d), [
    'spec.minReadySeconds: Invalid value: "10": must be an integer',
    'spec.paused: Invalid value: "yes": must be a boolean',
  ]);
});

// ---- MachineSet --------------------------------------------------------------------------------

test('MachineSet: valid, empty selector, mismatch, negative replicas', () => {
  assert.equal(validateMachineSet(ms('a', 2)), []);
  const empty = ms('a', 2);
  empty.spec.selector = {};
  assert.equal(
    validateMachineSet(empty).map((i) => i.message),
    ['spec.selector: Invalid value: {}: empty selector is not valid for MachineSet.'],
  );
  const mismatch = ms('a', 2);
  mismatch.spec.selector = { matchLabels: { app: 'other' } };
  assert.equal(
    validateMachineSet(mismatch).map((i) => i.detail),
    ['`selector` does not match template `labels`'],
  );
  assert.equal(
    validateMachineSet(ms('a', -1)).map((i) => i.field),
    ['spec.replicas'],
  );
});

test('MachineSet: an unknown delete policy is not a validation issue (reported only when deleting)', () => {
  assert.equal(validateMachineSet(ms('a', 2, { deletePolicy: 'Biggest' })), []);
});

test.run();
