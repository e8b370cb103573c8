/**
 * What Knative's receive adapter really sends, byte for byte, against what
 * test/integration/support/apiserver-events.ts builds for the functions' event tests: the
 * adapter posts straight to a recording sink (a sink URI, no Broker in between), and every
 * request must equal `adapterRequest(...)` for the object the API server returned — header names,
 * values and order (Ce-Source, Ce-Subject, Kn-Namespace, a ceOverrides extension), the
 * Resource-mode body as Go re-encodes the object, the Reference-mode body's key order.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge } from '../../../dev/bridge/index.js';
import { adminKube } from '../support/admin.js';
import { adapterRequest, goJson, type Mode, type Operation } from '../support/apiserver-events.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { machine } from '../support/objects.js';
import { adminKubeconfigText, apiServerSource, apiServerUrl, startRecorder, yamlDocs, type Recorded } from './support.js';

const test = suite("bridge: the adapter's wire format = support/apiserver-events.ts");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const MACHINES = (ns: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`;

/** The request as it arrived, minus what every HTTP client adds (Host, Content-Length). */
const arrived = (r: Recorded) => r.rawHeaders.filter(([k]) => !['host', 'content-length'].includes(k.toLowerCase()));
const header = (r: Recorded, name: string) => r.rawHeaders.find(([k]) => k === name)?.[1] ?? '';

test('add, update, delete in Resource mode (with ceOverrides) and Reference mode: exactly what apiserver-events.ts builds', async () => {
  const ns = await freshNamespace('adapter-wire');
  const resource = await startRecorder();
  const reference = await startRecorder();
  const bridge = await startBridge({
    kubeconfig: adminKubeconfigText(),
    manifests: [
      yamlDocs(
        apiServerSource(ns, 'resource', [{ apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine' }], {
          sink: { uri: resource.url },
          ceOverrides: { extensions: { cluster: 'wire-test' } },
        }),
        apiServerSource(ns, 'reference', [{ apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine' }], {
          sink: { uri: reference.url },
          mode: 'Reference',
        }),
      ),
    ],
    subscribers: {},
    log: () => {},
  });
  try {
    const name = uniqueName('wire');
    // Characters Go's encoder escapes, to see the body is re-encoded, not passed through.
    const body = machine(name, ns) as any;
    body.metadata.annotations = { note: 'a <b> & c' };
    const created = await adminKube().create(MACHINES(ns), body);
    await resource.waitFor('add', (r) => header(r, 'Ce-Type').endsWith('.add'));
    const updated = await adminKube().patch(`${MACHINES(ns)}/${name}`, 'merge', { metadata: { labels: { step: 'updated' } } });
    await resource.waitFor('update', (r) => header(r, 'Ce-Type').endsWith('.update'));
    await adminKube().request('DELETE', `${MACHINES(ns)}/${name}`);
    await resource.waitFor('delete', (r) => header(r, 'Ce-Type').endsWith('.delete'));
    await reference.waitFor('delete', (r) => header(r, 'Ce-Type').endsWith('.delete'));

    const check = (r: Recorded, mode: Mode, operation: Operation, object: any, extensions?: Record<string, string>) => {
      const what = `${mode} ${operation}`;
      assert.is(r.method, 'POST', what);
      assert.is(r.path, '/', what);
      assert.match(header(r, 'Ce-Id'), UUID, what);
      assert.match(header(r, 'Ce-Time'), RFC3339_NANO, what);
      const want = adapterRequest({
        mode,
        operation,
        object,
        source: apiServerUrl(),
        sourceNamespace: ns,
        extensions,
        id: header(r, 'Ce-Id'),
        time: header(r, 'Ce-Time'),
      });
      assert.equal(arrived(r), want.headers, `${what}: header names, values and order`);
      assert.is(r.body.toString('utf8'), want.body, `${what}: body`);
    };
    const ops: Operation[] = ['add', 'update', 'delete'];
    assert.equal(
      resource.requests.map((r) => header(r, 'Ce-Type')),
      ops.map((o) => `dev.knative.apiserver.resource.${o}`),
    );
    check(resource.requests[0]!, 'Resource', 'add', created, { cluster: 'wire-test' });
    check(resource.requests[1]!, 'Resource', 'update', updated, { cluster: 'wire-test' });
    // On delete: the last state, with the resourceVersion of the deletion.
    const deletedRv = JSON.parse(resource.requests[2]!.body.toString()).metadata.resourceVersion;
    assert.ok(Number(deletedRv) > Number(updated.metadata.resourceVersion), `${deletedRv} after ${updated.metadata.resourceVersion}`);
    const lastState = { ...updated, metadata: { ...updated.metadata, resourceVersion: deletedRv } };
    check(resource.requests[2]!, 'Resource', 'delete', lastState, { cluster: 'wire-test' });
    assert.ok(resource.requests[0]!.body.includes('a \\u003cb\\u003e \\u0026 c'), 'HTML-escaped like Go');
    assert.is(resource.requests[0]!.body.toString(), goJson(created), 'the object as the API server returned it, re-encoded');
    assert.equal(
      reference.requests.map((r) => header(r, 'Ce-Type')),
      ops.map((o) => `dev.knative.apiserver.ref.${o}`),
    );
    reference.requests.forEach((r, i) => check(r, 'Reference', ops[i]!, created));
    assert.is(
      reference.requests[0]!.body.toString(),
      `{"kind":"Machine","namespace":"${ns}","name":"${name}","apiVersion":"cluster.k8s.io/v1alpha1"}`,
    );
  } finally {
    await bridge.stop();
    await resource.close();
    await reference.close();
  }
});

test.run();
