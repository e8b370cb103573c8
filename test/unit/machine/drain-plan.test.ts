/**
 * The drain decisions against machine-controller v1.66.0's behaviour (controller.go shouldEvict,
 * eviction.go getFilteredPods; its own TestControllerShouldEvict cases where they apply).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_SKIP_EVICTION_AFTER_MS,
  evictionSkip,
  formatDuration,
  hasEvictionTarget,
  nodeIsReady,
  parseGoDuration,
  podList,
  podsOnNode,
  skipEvictionAfterMs,
  type NodeLike,
  type PodLike,
} from '../../../shared/machine/drain-plan.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const HOUR = 3600e3;

const node = (name: string, ready: string | undefined, extra: Partial<NodeLike['spec']> = {}, annotations?: Record<string, string>) =>
  ({
    metadata: { name, uid: `uid-${name}`, annotations },
    spec: extra,
    status: { conditions: ready === undefined ? [] : [{ type: 'Ready', status: ready }] },
  }) as NodeLike;

const pod = (name: string, over: { phase?: string; owner?: string; controller?: boolean; mirror?: boolean; deleting?: boolean } = {}) =>
  ({
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      ...(over.deleting ? { deletionTimestamp: ago(1000) } : {}),
      ...(over.mirror ? { annotations: { 'kubernetes.io/config.mirror': 'abc' } } : {}),
      ...(over.owner ? { ownerReferences: [{ kind: over.owner, name: 'o', controller: over.controller ?? true }] } : {}),
    },
    spec: { nodeName: 'n1' },
    status: { phase: over.phase ?? 'Running' },
  }) as PodLike;

test('Go durations as the -skip-eviction-after flag takes them', () => {
  assert.is(parseGoDuration('2h'), 2 * HOUR);
  assert.is(parseGoDuration('1h30m'), 1.5 * HOUR);
  assert.is(parseGoDuration('90m'), 1.5 * HOUR);
  assert.is(parseGoDuration('1.5h'), 1.5 * HOUR);
  assert.is(parseGoDuration('45s'), 45_000);
  assert.is(parseGoDuration('500ms'), 500);
  assert.is(parseGoDuration('0'), 0);
  for (const bad of ['', '2', 'h', '2 h', '-1h', '2hours', '1d', 'abc']) assert.is(parseGoDuration(bad), undefined, bad);
});

test('SKIP_EVICTION_AFTER: unset → 2 h; set → parsed; malformed → undefined (reported, not guessed)', () => {
  assert.is(skipEvictionAfterMs({}), DEFAULT_SKIP_EVICTION_AFTER_MS);
  assert.is(skipEvictionAfterMs({ SKIP_EVICTION_AFTER: ' ' }), DEFAULT_SKIP_EVICTION_AFTER_MS);
  assert.is(skipEvictionAfterMs({ SKIP_EVICTION_AFTER: '3s' }), 3000);
  assert.is(skipEvictionAfterMs({ SKIP_EVICTION_AFTER: 'soon' }), undefined);
});

test('Ready means the Ready condition is True; False, Unknown and missing are not', () => {
  assert.ok(nodeIsReady(node('a', 'True')));
  assert.not.ok(nodeIsReady(node('a', 'False')));
  assert.not.ok(nodeIsReady(node('a', 'Unknown')));
  assert.not.ok(nodeIsReady(node('a', undefined)));
});

test('skip: deletion older than the bound, Node not Ready, skip annotation; otherwise drain', () => {
  const ready = node('n1', 'True');
  assert.is(evictionSkip(ready, ago(HOUR), NOW, 2 * HOUR), undefined, 'young deletion of a Ready Node: drain');
  assert.is(evictionSkip(ready, ago(2 * HOUR), NOW, 2 * HOUR), undefined, 'exactly at the bound: still drained (Go: Since > bound)');
  assert.is(evictionSkip(ready, ago(2 * HOUR + 1), NOW, 2 * HOUR), 'DeletionTooOld');
  assert.is(evictionSkip(ready, ago(4000), NOW, 3000), 'DeletionTooOld', 'a shortened bound');
  assert.is(evictionSkip(node('n1', 'False'), ago(1000), NOW, 2 * HOUR), 'NodeNotReady');
  assert.is(evictionSkip(node('n1', 'Unknown'), ago(1000), NOW, 2 * HOUR), 'NodeNotReady');
  assert.is(
    evictionSkip(node('n1', 'True', {}, { 'kubermatic.io/skip-eviction': '' }), ago(1000), NOW, 2 * HOUR),
    'SkipEvictionAnnotation',
    'any value, as machine-controller checks presence',
  );
  // The bound is checked first: an old deletion of a NotReady Node says why it is old.
  assert.is(evictionSkip(node('n1', 'False'), ago(3 * HOUR), NOW, 2 * HOUR), 'DeletionTooOld');
});

test('eviction target: another Machine without a Node, or another schedulable Node', () => {
  const n1 = node('n1', 'True');
  const self = { metadata: { uid: 'self' }, status: {} };
  const linked = { metadata: { uid: 'other' }, status: { nodeRef: { name: 'n2' } } };
  const unlinked = { metadata: { uid: 'new' }, status: null };
  assert.not.ok(hasEvictionTarget(n1, 'self', [self], [n1]), 'the last Node: nowhere to go');
  assert.not.ok(hasEvictionTarget(n1, 'self', [self, linked], [n1, node('n2', 'True', { unschedulable: true })]), 'other Node cordoned');
  assert.ok(hasEvictionTarget(n1, 'self', [self, linked], [n1, node('n2', 'True')]), 'another schedulable Node');
  assert.ok(hasEvictionTarget(n1, 'self', [self, unlinked], [n1]), 'a Machine whose Node has not joined yet');
  assert.not.ok(hasEvictionTarget(n1, 'self', [self], [n1, node('n1', 'True')]), 'the Node itself is no target');
});

test('pods: finished, DaemonSet and mirror pods are not evicted; terminating ones are waited for', () => {
  const got = podsOnNode([
    pod('web-b'),
    pod('web-a'),
    pod('rs', { owner: 'ReplicaSet' }),
    pod('done', { phase: 'Succeeded' }),
    pod('crashed', { phase: 'Failed' }),
    pod('ds', { owner: 'DaemonSet' }),
    pod('ds-not-controller', { owner: 'DaemonSet', controller: false }),
    pod('static', { mirror: true }),
    pod('leaving', { deleting: true }),
    pod('pending', { phase: 'Pending' }),
  ]);
  assert.equal(
    got.evict.map((p) => p.metadata.name),
    ['ds-not-controller', 'pending', 'rs', 'web-a', 'web-b'],
  );
  assert.equal(
    got.terminating.map((p) => p.metadata.name),
    ['leaving'],
  );
  assert.equal(podsOnNode([pod('ds', { owner: 'DaemonSet' }), pod('static', { mirror: true })]), { evict: [], terminating: [] });
});

test('messages: bounded pod lists and readable bounds', () => {
  const pods = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => pod(n));
  assert.is(podList(pods.slice(0, 2)), 'ns/a, ns/b');
  assert.is(podList(pods), 'ns/a, ns/b, ns/c, ns/d, ns/e and 2 more');
  assert.is(formatDuration(2 * HOUR), '2h');
  assert.is(formatDuration(90 * 60e3), '90m');
  assert.is(formatDuration(3000), '3s');
  assert.is(formatDuration(1500), '1500ms');
});

test.run();
