import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { machineSetsForDeployment } from '../../../shared/rollout/ownership.js';
import type { MachineSet } from '../../../shared/rollout/types.js';
import { md, ms } from './helpers.js';

const owned = (name: string, uid = 'md-uid'): MachineSet => {
  const s = ms(name, 1, { labels: { app: 'workers', 'machine-template-hash': name } });
  s.metadata.ownerReferences = [
    { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'MachineDeployment', name: 'workers', uid, controller: true },
  ];
  return s;
};

test("controlled and matching sets are the MD's; matching orphans are adopted; others are not", () => {
  const mine = owned('a');
  const orphan = ms('b', 1, { labels: { app: 'workers', 'machine-template-hash': 'b' } });
  const foreign = owned('c', 'other-uid');
  const unmatched = owned('d');
  unmatched.metadata.labels = { app: 'else' };
  const elsewhere = owned('e');
  elsewhere.metadata.namespace = 'default';
  const r = machineSetsForDeployment(md(), [mine, orphan, foreign, unmatched, elsewhere]);
  assert.equal(
    r.sets.map((s) => s.metadata.name),
    ['a', 'b'],
  );
  assert.equal(
    r.adopt.map((a) => [a.machineSet.metadata.name, a.ownerReference]),
    [
      [
        'b',
        {
          apiVersion: 'cluster.k8s.io/v1alpha1',
          kind: 'MachineDeployment',
          name: 'workers',
          uid: 'md-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    ],
  );
});

test('an empty or malformed selector selects nothing', () => {
  const d = md();
  d.spec.selector = {};
  assert.equal(machineSetsForDeployment(d, [owned('a')]), { sets: [], adopt: [] });
  d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Gt' }] };
  assert.equal(machineSetsForDeployment(d, [owned('a')]), { sets: [], adopt: [] });
});

test.run();
