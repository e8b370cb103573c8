/**
 * `npm start`'s table: the NODE column shows the Machine's `status.nodeRef.name` (what
 * `kubectl get machines` shows in its Node column), marked while the mirrored Ready is not True.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatTable, nodeColumn } from '../../../cli/table.js';

test('NODE: "-" without a nodeRef, the name when Ready, "(NotReady)" otherwise', () => {
  assert.is(nodeColumn(undefined), '-');
  assert.is(nodeColumn({ addresses: [] }), '-');
  const ref = { nodeRef: { name: 'md-1-abcde' } };
  assert.is(nodeColumn({ ...ref, conditions: [{ type: 'Ready', status: 'True' }] }), 'md-1-abcde');
  assert.is(nodeColumn({ ...ref, conditions: [{ type: 'Ready', status: 'Unknown' }] }), 'md-1-abcde (NotReady)');
  assert.is(nodeColumn(ref), 'md-1-abcde (NotReady)');
});

test('the table has a NODE column, aligned', () => {
  const out = formatTable([{ machine: 'ns/m1', phase: 'Ready', import: 'Succeeded 100.0%', vmi: 'Running', ip: '10.244.0.2', node: 'm1' }]);
  const [head, row] = out.split('\n');
  assert.ok(head!.endsWith('NODE'), head);
  assert.is(row!.indexOf('m1', 10), head!.indexOf('NODE'));
});

test.run();
