/**
 * decodeCloudEvent: the required context attributes are checked where the HTTP binding puts
 * them (binary: `ce-` headers; structured: the envelope's top-level members, never `data`).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeCloudEvent } from '../../../events/decode.js';
import { MalformedEventError } from '../../../events/apiserver.js';

const machine = { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine', metadata: { name: 'm', namespace: 'ns' } };

const binaryHeaders = {
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-id': 'e1',
  'ce-source': 'https://10.96.0.1:443',
  'ce-type': 'dev.knative.apiserver.resource.add',
};

const envelope = {
  specversion: '1.0',
  id: 'e1',
  source: 'https://10.96.0.1:443',
  type: 'dev.knative.apiserver.resource.add',
  datacontenttype: 'application/json',
  data: machine,
};
const structured = (ev: Record<string, unknown>) => ({
  headers: { 'content-type': 'application/cloudevents+json' },
  body: JSON.stringify(ev),
});
const without = <T extends Record<string, unknown>>(o: T, key: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

function rejects(what: string, headers: Record<string, string>, body: string, message: RegExp): void {
  try {
    const ev = decodeCloudEvent(headers, body);
    assert.unreachable(`${what}: accepted as ${JSON.stringify({ id: ev.id, specversion: ev.specversion })}`);
  } catch (e) {
    if (!(e instanceof MalformedEventError)) throw e;
    assert.match(e.message, message, what);
  }
}

test('well-formed binary and structured events decode', () => {
  const b = decodeCloudEvent(
    { ...binaryHeaders, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    JSON.stringify(machine),
  );
  assert.is(b.id, 'e1');
  assert.is(b.specversion, '1.0');
  assert.equal(b.data, machine);
  assert.is(b.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  const s = structured(envelope);
  const d = decodeCloudEvent(s.headers, s.body);
  assert.is(d.id, 'e1');
  assert.is(d.type, envelope.type);
  assert.equal(d.data, machine);
});

test('structured: an "id" only inside data is no event id', () => {
  const s = structured({ ...without(envelope, 'id'), data: { ...machine, id: 'inner' } });
  rejects('id inside data', s.headers, s.body, /attribute "id" must be a non-empty string, missing/);
  // …nor one nested deeper, nor the word in a string
  const t = structured({
    ...without(envelope, 'id'),
    data: { ...machine, metadata: { ...machine.metadata, annotations: { x: '"id": 1' } } },
  });
  rejects('"id" in a string', t.headers, t.body, /"id" must be a non-empty string/);
});

test('structured: id must be a non-empty string', () => {
  for (const id of ['', 5, null, true, { a: 1 }]) {
    const s = structured({ ...envelope, id });
    rejects(`id ${JSON.stringify(id)}`, s.headers, s.body, /attribute "id" must be a non-empty string/);
  }
});

test('structured: specversion must be exactly "1.0"', () => {
  const missing = structured(without(envelope, 'specversion'));
  rejects('no specversion', missing.headers, missing.body, /"specversion" must be "1\.0", missing/);
  for (const v of ['0.3', '1', '1.0.0', '2.0', 1, 1.0, '']) {
    const s = structured({ ...envelope, specversion: v });
    rejects(`specversion ${JSON.stringify(v)}`, s.headers, s.body, /"specversion" must be "1\.0"/);
  }
});

test('structured: type and source must be non-empty strings; the envelope must be a JSON object', () => {
  for (const key of ['type', 'source']) {
    for (const v of [undefined, '', 7]) {
      const s = structured(v === undefined ? without(envelope, key) : { ...envelope, [key]: v });
      rejects(`${key} ${JSON.stringify(v)}`, s.headers, s.body, new RegExp(`"${key}" must be a non-empty string`));
    }
  }
  rejects('array', { 'content-type': 'application/cloudevents+json' }, JSON.stringify([envelope]), /not a JSON object/);
  rejects('not JSON', { 'content-type': 'application/cloudevents+json' }, '{nope', /not JSON/);
});

test('binary: ce-id must be a non-empty header; its absence is not made up for by the body', () => {
  rejects('empty ce-id', { ...binaryHeaders, 'ce-id': '' }, JSON.stringify(machine), /ce-id must be a non-empty string, got ""/);
  rejects(
    'no ce-id, "id" in the body',
    without(binaryHeaders, 'ce-id') as Record<string, string>,
    JSON.stringify({ ...machine, id: 'x' }),
    /ce-id/,
  );
});

test('binary: ce-specversion must be exactly "1.0"', () => {
  rejects(
    'no ce-specversion',
    without(binaryHeaders, 'ce-specversion') as Record<string, string>,
    JSON.stringify(machine),
    /ce-specversion must be "1\.0", missing/,
  );
  for (const v of ['0.3', '1', '2.0', '1.0,1.0', '']) {
    rejects(`ce-specversion ${v}`, { ...binaryHeaders, 'ce-specversion': v }, JSON.stringify(machine), /ce-specversion must be "1\.0"/);
  }
});

test('binary: ce-type and ce-source must be present', () => {
  rejects(
    'no ce-type',
    without(binaryHeaders, 'ce-type') as Record<string, string>,
    JSON.stringify(machine),
    /ce-type must be a non-empty string/,
  );
  rejects('empty ce-source', { ...binaryHeaders, 'ce-source': '' }, JSON.stringify(machine), /ce-source must be a non-empty string/);
});

test('empty body and batches are refused', () => {
  rejects('empty body', binaryHeaders, '', /empty body/);
  rejects('batch', { 'content-type': 'application/cloudevents-batch+json' }, JSON.stringify([envelope]), /batched/);
});

test.run();
