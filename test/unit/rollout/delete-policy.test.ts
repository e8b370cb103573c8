import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  deletePriority,
  DeletePolicy,
  machinesToDelete,
  resolveDeletePolicy,
  seededRandom,
} from '../../../shared/rollout/delete-policy.js';
import { DAY, machine, ms, T0 } from './helpers.js';

const NOW = T0 + 30 * DAY;
const set = ms('s', 3);
const plain = (name: string, ageDays: number) => machine(name, set, { createdAt: NOW - ageDays * DAY });

test('resolveDeletePolicy: "" and absent are Random; unknown gets machine-controller\'s message', () => {
  assert.equal(resolveDeletePolicy(undefined), { ok: true, policy: 'Random' });
  assert.equal(resolveDeletePolicy(''), { ok: true, policy: 'Random' });
  assert.equal(resolveDeletePolicy('Oldest'), { ok: true, policy: 'Oldest' });
  assert.equal(resolveDeletePolicy('oldest'), {
    ok: false,
    error: `Unsupported delete policy "oldest". Must be one of 'Random', 'Newest', or 'Oldest'`,
  });
});

// [description, machine, Random, Newest, Oldest]
const deleting = machine('d', set, { deleting: true });
const marked = machine('m', set, { annotations: { 'cluster.k8s.io/delete-machine': 'yes' } });
const markedEmpty = machine('me', set, { annotations: { 'cluster.k8s.io/delete-machine': '' } });
const failed = machine('f', set, { errorReason: 'CreateError' });
const emptyError = machine('e', set);
emptyError.status!.errorMessage = ''; // a set pointer counts, even to ""
const nullError = machine('n', set);
nullError.status!.errorReason = null;
const noTimestamp = machine('t', set);
delete noTimestamp.metadata.creationTimestamp;
const future = plain('fu', -1);
const tenDays = plain('ten', 10);

const PRIORITIES: [string, ReturnType<typeof machine>, number, number, number][] = [
  ['being deleted', deleting, 100, 100, 100],
  ['delete-machine annotation', marked, 50, 100, 100],
  [
    'empty annotation does not count',
    markedEmpty,
    20,
    100 - 100 * (1 - Math.exp((-30 * 86400) / 864000)),
    100 * (1 - Math.exp((-30 * 86400) / 864000)),
  ],
  ['errorReason', failed, 50, 100, 100],
  ['errorMessage ""', emptyError, 50, 100, 100],
  ['errorReason null does not count', nullError, 20, 100 - 100 * (1 - Math.exp(-3)), 100 * (1 - Math.exp(-3))],
  ['no creationTimestamp', noTimestamp, 20, 100, 0],
  ['created in the future', future, 20, 100, 0],
  ['ten days old', tenDays, 20, 100 * Math.exp(-1), 100 * (1 - Math.exp(-1))],
];
for (const [name, m, random, newest, oldest] of PRIORITIES) {
  test(`priority: ${name}`, () => {
    assert.is(deletePriority(DeletePolicy.Random, m, NOW), random);
    assert.ok(
      Math.abs(deletePriority(DeletePolicy.Newest, m, NOW) - newest) < 1e-9,
      `newest ${deletePriority(DeletePolicy.Newest, m, NOW)}`,
    );
    assert.ok(
      Math.abs(deletePriority(DeletePolicy.Oldest, m, NOW) - oldest) < 1e-9,
      `oldest ${deletePriority(DeletePolicy.Oldest, m, NOW)}`,
    );
  });
}

const names = (ms: { metadata: { name: string } }[]) => ms.map((m) => m.metadata.name);
const fleet = () => [plain('age1', 1), plain('age20', 20), plain('age5', 5), plain('age60', 60), plain('age0', 0.01)];

test('Oldest deletes oldest first; Newest newest first', () => {
  // Deleting them all: upstream returns the list as is, unsorted.
  assert.equal(names(machinesToDelete(fleet(), 5, DeletePolicy.Oldest, { now: NOW })), names(fleet()));
  assert.equal(names(machinesToDelete(fleet(), 4, DeletePolicy.Oldest, { now: NOW })), ['age60', 'age20', 'age5', 'age1']);
  assert.equal(names(machinesToDelete(fleet(), 2, DeletePolicy.Newest, { now: NOW })), ['age0', 'age1']);
});

test('flagged Machines go first under every policy', () => {
  const ms = [...fleet(), machine('flagged', set, { createdAt: NOW - 30 * DAY, annotations: { 'cluster.k8s.io/delete-machine': 'true' } })];
  for (const p of [DeletePolicy.Random, DeletePolicy.Newest, DeletePolicy.Oldest]) {
    assert.equal(names(machinesToDelete(ms, 1, p, { now: NOW, random: seededRandom(1) })), ['flagged'], p);
  }
  const withFailed = [...fleet(), machine('broken', set, { createdAt: NOW - 2 * DAY, errorReason: 'CreateError' })];
  assert.equal(names(machinesToDelete(withFailed, 1, DeletePolicy.Newest, { now: NOW })), ['broken']);
});

test('Oldest/Newest ties (equal priority 100) fall back to age, then name', () => {
  const a = machine('b-flag', set, { createdAt: NOW - DAY, annotations: { 'cluster.k8s.io/delete-machine': 'x' } });
  const b = machine('a-flag', set, { createdAt: NOW - 3 * DAY, annotations: { 'cluster.k8s.io/delete-machine': 'x' } });
  const c = machine('c-flag', set, { createdAt: NOW - 3 * DAY, annotations: { 'cluster.k8s.io/delete-machine': 'x' } });
  assert.equal(names(machinesToDelete([a, c, b, plain('x', 1)], 3, DeletePolicy.Oldest, { now: NOW })), ['a-flag', 'c-flag', 'b-flag']);
  assert.equal(names(machinesToDelete([a, c, b, plain('x', 1)], 3, DeletePolicy.Newest, { now: NOW })), ['b-flag', 'a-flag', 'c-flag']);
});

test('Random: ties follow the injected random source, reproducibly; every Machine can be chosen', () => {
  const first = names(machinesToDelete(fleet(), 2, DeletePolicy.Random, { now: NOW, random: seededRandom(42) }));
  assert.equal(names(machinesToDelete(fleet(), 2, DeletePolicy.Random, { now: NOW, random: seededRandom(42) })), first);
  const seen = new Set<string>();
  for (let seed = 0; seed < 50; seed++) {
    for (const n of names(machinesToDelete(fleet(), 1, DeletePolicy.Random, { now: NOW, random: seededRandom(seed) }))) seen.add(n);
  }
  assert.equal([...seen].sort(), ['age0', 'age1', 'age20', 'age5', 'age60']);
});

test('Random: deleting (100) before annotated/failed (50) before the rest (20)', () => {
  const list = [plain('p1', 1), failed, plain('p2', 2), deleting, marked];
  const order = names(machinesToDelete(list, 4, DeletePolicy.Random, { now: NOW, random: seededRandom(7) }));
  assert.is(order[0], 'd');
  assert.equal(order.slice(1, 3).sort(), ['f', 'm']);
  assert.ok(['p1', 'p2'].includes(order[3]));
});

test('diff ≤ 0 deletes nothing; diff ≥ count deletes all', () => {
  assert.equal(machinesToDelete(fleet(), 0, DeletePolicy.Oldest, { now: NOW }), []);
  assert.equal(machinesToDelete(fleet(), -2, DeletePolicy.Oldest, { now: NOW }), []);
  assert.is(machinesToDelete(fleet(), 9, DeletePolicy.Oldest, { now: NOW }).length, 5);
});

test('seededRandom is deterministic and in [0, 1)', () => {
  const a = seededRandom(3);
  const b = seededRandom(3);
  for (let i = 0; i < 100; i++) {
    const x = a();
    assert.is(x, b());
    assert.ok(x >= 0 && x < 1);
  }
});

test.run();
