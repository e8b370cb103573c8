/**
 * Which Machine a Node belongs to (machine-controller, reference §5.2): providerID compared
 * case-insensitively, else an address in common; only Machines holding our finalizer and not
 * being deleted; an ambiguous match links nothing.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { likelyNodeName, linkable, machineForNode, matchNode, nodeForMachine, sameProviderId } from '../../../shared/node/match.js';
import { machine, node } from './factories.js';

test('providerID matches whatever the case, never when either side is empty', () => {
  assert.ok(sameProviderId('kubevirt://MD-1', 'KubeVirt://md-1'));
  assert.not.ok(sameProviderId('kubevirt://md-1', 'kubevirt://md-2'));
  assert.not.ok(sameProviderId(undefined, 'kubevirt://md-1'));
  assert.not.ok(sameProviderId('', ''));
});

test('matchNode: nodeRef, then providerID, then any shared address', () => {
  const n = node({ name: 'md-1', providerID: 'kubevirt://md-1', addresses: ['10.0.0.5', 'fd00::5'] });
  assert.is(matchNode(machine({ status: { nodeRef: { name: 'md-1' } } }), n), 'nodeRef');
  assert.is(matchNode(machine({ providerID: 'KUBEVIRT://MD-1' }), n), 'providerID');
  assert.is(matchNode(machine({ addresses: ['192.168.1.1', 'fd00::5'] }), n), 'address');
  assert.is(matchNode(machine({ providerID: 'kubevirt://other', addresses: ['10.0.0.6'] }), n), undefined);
  assert.is(matchNode(machine(), node({ addresses: [] })), undefined, 'no providerID and no addresses on either side');
});

test('machineForNode: only linkable Machines; the strongest match wins; a tie links nothing', () => {
  const env = {};
  const n = node({ providerID: 'kubevirt://md-1', addresses: ['10.0.0.5'] });
  const byId = machine({ name: 'a', providerID: 'kubevirt://md-1' });
  const byAddr = machine({ name: 'b', addresses: ['10.0.0.5'] });
  assert.is(machineForNode(n, [byAddr, byId], env)?.machine.metadata.name, 'a');
  assert.is(machineForNode(n, [byAddr], env)?.by, 'address');
  const foreign = machine({ name: 'c', providerID: 'kubevirt://md-1', finalizer: false });
  const deleting = machine({ name: 'd', providerID: 'kubevirt://md-1', deleting: true });
  assert.is(machineForNode(n, [foreign, deleting], env), undefined, 'no finalizer of ours, or being deleted: not linked');
  assert.not.ok(linkable(foreign, env));
  assert.not.ok(linkable(deleting, env));
  // Ours by finalizer, but machine-controller's rule gives it to someone else.
  const aws = machine({ name: 'f', providerID: 'kubevirt://md-1', spec: { providerSpec: { value: { cloudProvider: 'aws' } } } });
  const otherWorker = machine({ name: 'g', providerID: 'kubevirt://md-1' });
  otherWorker.metadata.labels = { 'machine.k8s.io/controller': 'other' };
  assert.not.ok(linkable(aws, env));
  assert.not.ok(linkable(otherWorker, env));
  assert.ok(linkable(otherWorker, { WORKER_NAME: 'other' }), 'the worker this deployment serves');
  const twin = machine({ name: 'e', addresses: ['10.0.0.5'] });
  assert.is(machineForNode(n, [byAddr, twin], env), undefined, 'two Machines claim the address');
});

test('nodeForMachine skips Nodes being deleted; likelyNodeName reads the VM name from the providerID', () => {
  const m = machine({ providerID: 'kubevirt://MD-1' });
  const gone = { ...node({ name: 'old', providerID: 'kubevirt://md-1' }) };
  gone.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.is(nodeForMachine(m, [gone]), undefined);
  assert.is(nodeForMachine(m, [gone, node({ name: 'new', providerID: 'kubevirt://md-1' })])?.node.metadata.name, 'new');
  assert.is(likelyNodeName(m), 'md-1');
  assert.is(likelyNodeName(machine({ status: { providerStatus: { virtualMachine: { name: 'vm-x', uid: 'u' } } } })), 'vm-x');
  assert.is(likelyNodeName(machine()), undefined);
});

test.run();
