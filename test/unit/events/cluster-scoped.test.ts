/**
 * Keys of the node function's events: a v1 Node (cluster-scoped: no namespace, in both
 * modes) and the `machine.ready` follow-up; a namespaced kind without a namespace, a Node with
 * one, or a follow-up whose data breaks its schema stays malformed (400).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MalformedEventError, parseApiServerEvent } from '../../../events/apiserver.js';
import { FollowUpType, buildFollowUp, parseFollowUp } from '../../../events/followup.js';

const ce = (type: string, data: unknown) => ({ specversion: '1.0' as const, id: '1', source: 's', type, data });

test('a Node is keyed by its name alone, in Resource and Reference mode', () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'md-1', uid: 'u' } };
  const r = parseApiServerEvent(ce('dev.knative.apiserver.resource.update', node));
  assert.equal([r.kind, r.namespace, r.name], ['Node', '', 'md-1']);
  const ref = parseApiServerEvent(ce('dev.knative.apiserver.ref.delete', { kind: 'Node', namespace: '', name: 'md-1', apiVersion: 'v1' }));
  assert.equal([ref.operation, ref.namespace, ref.name], ['delete', '', 'md-1']);
});

test('namespaced kinds still need a namespace; a Node must not carry one', () => {
  const machine = { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine', metadata: { name: 'm' } };
  assert.throws(
    () => parseApiServerEvent(ce('dev.knative.apiserver.resource.add', machine)),
    (e: Error) => e instanceof MalformedEventError,
  );
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', namespace: 'x' } };
  assert.throws(() => parseApiServerEvent(ce('dev.knative.apiserver.resource.add', node)), /cluster-scoped/);
});

test('parseFollowUp: the data of a machine.ready we built round-trips; other types and bad data are malformed', () => {
  const machine = { namespace: 'ns', name: 'm', uid: 'u' };
  const built = buildFollowUp(FollowUpType.ready, { machine, providerID: 'kubevirt://m', addresses: [] }, { function: 'vmi' });
  assert.equal(parseFollowUp(ce(built.type, JSON.stringify(built.data)), FollowUpType.ready).machine, machine);
  assert.throws(() => parseFollowUp(ce(FollowUpType.failed, built.data), FollowUpType.ready), /expected/);
  assert.throws(() => parseFollowUp(ce(FollowUpType.ready, { machine: { name: 'm' } }), FollowUpType.ready), /schema/);
  assert.throws(() => parseFollowUp(ce(FollowUpType.ready, '{not json'), FollowUpType.ready), /not JSON/);
});

test.run();
