/**
 * The Machine's mirror of its Node's Ready condition, and the transitions the follow-ups
 * announce: joined when the mirror did not say Ready (for this Node), lost when it did and the
 * Node no longer is; replays and heartbeats change nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  announcement,
  deletedCondition,
  mirror,
  staleReading,
  nodeReady,
  sameCondition,
  transition,
  withReady,
} from '../../../shared/node/ready.js';
import { machine, node, readyCondition } from './factories.js';

const NOW = '2026-01-01T12:00:00Z';
const linked = (status: 'True' | 'False' | 'Unknown', uid = 'node-uid-md-1', at = '2026-01-01T10:00:00Z') =>
  machine({
    status: {
      nodeRef: { apiVersion: 'v1', kind: 'Node', name: 'md-1', uid },
      conditions: [
        { type: 'Other', status: 'True' },
        { type: 'Ready', status, lastTransitionTime: at },
      ],
    },
  });

test('a Node without a Ready condition is Unknown', () => {
  assert.is(nodeReady(node()).status, 'Unknown');
});

test('mirror copies status, reason, message and the Node`s transition time, not the heartbeat', () => {
  const c = mirror(readyCondition('True'), undefined, NOW);
  assert.equal(c, {
    type: 'Ready',
    status: 'True',
    lastTransitionTime: '2026-01-01T10:00:00Z',
    reason: 'KubeletReady',
    message: 'kubelet is posting ready status',
  });
  // No transition time on the Node: the one already mirrored for the same status stays.
  const bare = { type: 'Ready', status: 'True' };
  assert.is(mirror(bare, { type: 'Ready', status: 'True', lastTransitionTime: 'T0' }, NOW).lastTransitionTime, 'T0');
  assert.is(mirror(bare, { type: 'Ready', status: 'False', lastTransitionTime: 'T0' }, NOW).lastTransitionTime, NOW);
  assert.ok(sameCondition(c, mirror(readyCondition('True'), c, '2099-01-01T00:00:00Z')), 'a replay mirrors the same');
});

test('withReady replaces Ready in place and keeps other condition types', () => {
  const m = linked('False');
  const out = withReady(m, deletedCondition('md-1', NOW));
  assert.equal(
    out.map((c) => `${c.type}=${c.status}`),
    ['Other=True', 'Ready=Unknown'],
  );
  assert.equal(withReady(machine(), deletedCondition('md-1', NOW)).length, 1);
});

test('transitions: joined once per Ready transition, lost only after Ready, keyed by Node UID and time', () => {
  const ready = node({ ready: readyCondition('True', 'T1') });
  assert.equal(transition(machine(), ready), { type: 'joined', key: 'node-uid-md-1/T1' }, 'first link while Ready');
  assert.equal(transition(linked('True'), ready), undefined, 'already mirrored Ready');
  assert.equal(transition(linked('False'), ready), { type: 'joined', key: 'node-uid-md-1/T1' }, 'Ready again after a loss');
  assert.equal(transition(linked('True', 'old-uid'), ready), { type: 'joined', key: 'node-uid-md-1/T1' }, 'a new Node of the same name');
  const notReady = node({ ready: readyCondition('False', 'T2', 'KubeletNotReady') });
  assert.equal(transition(machine(), notReady), undefined, 'never Ready: nothing lost');
  assert.equal(transition(linked('False'), notReady), undefined);
  assert.equal(transition(linked('True'), notReady), {
    type: 'lost',
    key: 'node-uid-md-1/T2',
    reason: 'NotReady',
    message: 'kubelet is not posting ready status',
  });
  assert.is((transition(linked('True'), node({ ready: readyCondition('Unknown', 'T3') })) as { reason: string }).reason, 'Unknown');
});

test('announcement: the Node`s current readiness as a follow-up, whatever the mirror says (a claimed, unsent one is found by it)', () => {
  assert.equal(announcement(node({ ready: readyCondition('True', 'T1') })), { type: 'joined', key: 'node-uid-md-1/T1' });
  assert.equal(announcement(node({ ready: readyCondition('Unknown', 'T3') })), {
    type: 'lost',
    key: 'node-uid-md-1/T3',
    reason: 'Unknown',
    message: 'kubelet is not posting ready status',
  });
  assert.equal(announcement(node()), { type: 'lost', key: 'node-uid-md-1/', reason: 'Unknown' }, 'no Ready condition yet');
});

test('staleReading: a Node read before the reading the Machine mirrors (no Ready yet, or an earlier transition) is stale', () => {
  const at = '2026-01-01T10:00:00Z';
  assert.ok(staleReading(linked('True', 'node-uid-md-1', at), node()), 'registered, no status yet, while Ready is mirrored');
  assert.ok(staleReading(linked('True', 'node-uid-md-1', at), node({ ready: readyCondition('False', '2026-01-01T09:59:00Z') })));
  assert.not.ok(
    staleReading(linked('True', 'node-uid-md-1', at), node({ ready: readyCondition('False', '2026-01-01T10:01:00Z') })),
    'newer',
  );
  assert.not.ok(staleReading(linked('True', 'node-uid-md-1', at), node({ ready: readyCondition('True', at) })), 'the same reading');
  assert.not.ok(staleReading(linked('True', 'other-uid', at), node()), 'another Node of that name: not comparable');
  assert.not.ok(staleReading(machine(), node()), 'nothing mirrored yet');
  const never = machine({
    status: {
      nodeRef: { apiVersion: 'v1', kind: 'Node', name: 'md-1', uid: 'node-uid-md-1' },
      conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', lastTransitionTime: at }],
    },
  });
  assert.not.ok(staleReading(never, node()), 'the mirror itself says the Node never reported');
});

test.run();
