/**
 * How the datavolume function obtains a DataVolume and its Machine
 * (shared/machine/infra-observation.ts), against the real API server: the event's labels are
 * only a hint; the DataVolume counts only where the Machine's spec puts its objects and only
 * when it carries that Machine's UID label; a Reference-mode Machine event (resync's
 * Machine-keyed entry) finds the Machine's DataVolume by itself. A clone scheduled after its
 * golden image had failed is told of the failure by its own event.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { freshNamespace, uniqueName, eventually } from '../support/kube.js';
import { startFunction, type FunctionServer } from '../support/function-server.js';
import { startSink, type TestSink } from '../support/sink.js';
import { apiServerEvent, post } from '../support/apiserver-events.js';
import { dataVolume } from '../support/objects.js';
import { FollowUpType } from '../../../events/followup.js';
import { LABEL_GOLDEN, buildGoldenDataVolume, goldenName } from '../../../shared/image/golden.js';
import {
  LABEL_MACHINE_NAME,
  LABEL_MACHINE_NAMESPACE,
  LABEL_MACHINE_UID,
  LABEL_MANAGED_BY,
  MANAGED_BY_VALUE,
} from '../../../shared/constants.js';

const test = suite('datavolume function: the Machine names where its DataVolumes are');
let fn: FunctionServer;
let sink: TestSink;
const kube = () => adminKube();
const MACHINES = '/apis/cluster.k8s.io/v1alpha1';
const DVS = (ns: string) => `/apis/cdi.kubevirt.io/v1beta1/namespaces/${ns}/datavolumes`;

test.before(async () => {
  sink = await startSink();
  // Admin credentials: what is refused below is refused by the function's rule, not by RBAC.
  fn = await startFunction('datavolume', { KUBECONFIG: process.env.KUBECONFIG!, K_SINK: sink.url, INFRA_NAMESPACE: 'kube-system' });
});
test.after(async () => {
  await fn?.stop();
  await sink?.close();
});

interface Obj {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; labels?: Record<string, string> };
  status?: { providerStatus?: { phase?: string } };
}

/** A kubevirt Machine in the flat schema whose infra namespace is `infraNs`, as the machine function left it after provisioning. */
async function provisionedMachine(ns: string, infraNs: string): Promise<Obj> {
  const name = uniqueName('m');
  const m = await kube().create<Obj>(`${MACHINES}/namespaces/${ns}/machines`, {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace: ns },
    spec: {
      providerSpec: {
        value: {
          cloudProvider: 'kubevirt',
          cloudProviderSpec: {
            sourceURL: 'http://images.example/ubuntu.img',
            pvcSize: '10Gi',
            cpus: '1',
            memory: '2048M',
            storageClassName: 'kubermatic-fast',
            namespace: infraNs,
          },
          operatingSystem: 'ubuntu',
          operatingSystemSpec: {},
          sshPublicKeys: [],
        },
      },
      versions: { kubelet: '1.30.0' },
    },
  });
  // The Machine CRD has no status subresource: the machine function patches the main resource.
  return kube().patch<Obj>(`${MACHINES}/namespaces/${ns}/machines/${name}`, 'merge', {
    status: {
      providerStatus: {
        phase: 'Provisioning',
        infraNamespace: infraNs,
        virtualMachine: { name },
        emitted: { [FollowUpType.provisioning]: { key: m.metadata.uid, at: new Date().toISOString() } },
      },
    },
  });
}

const ownership = (m: Obj, uid = m.metadata.uid) => ({
  [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  [LABEL_MACHINE_NAMESPACE]: m.metadata.namespace,
  [LABEL_MACHINE_NAME]: m.metadata.name,
  [LABEL_MACHINE_UID]: uid,
});

/** An imported DataVolume named after `m` in `ns`, carrying `labels`. */
async function importedDv(m: Obj, ns: string, labels: Record<string, string>): Promise<Obj> {
  const dv = dataVolume(m.metadata.name, ns) as { metadata: Record<string, unknown> };
  dv.metadata.labels = labels;
  await kube().create(DVS(ns), dv);
  return kube().patch<Obj>(`${DVS(ns)}/${m.metadata.name}/status`, 'merge', { status: { phase: 'Succeeded', progress: '100.0%' } });
}

const dvEvent = (dv: Obj, labels?: Record<string, string>) =>
  apiServerEvent({ mode: 'Resource', operation: 'update', structured: false }, {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataVolume',
    ...dv,
    metadata: { ...dv.metadata, ...(labels ? { labels } : {}) },
  } as never);

const machineNow = (m: Obj) => kube().get<Obj>(`${MACHINES}/namespaces/${m.metadata.namespace}/machines/${m.metadata.name}`);
const importedFor = (m: Obj) =>
  sink.ofType(FollowUpType.imageImported).filter((e) => e.subject === `${m.metadata.namespace}/${m.metadata.name}`);

test("a DataVolume outside the Machine's infra namespace, or without its UID label, is not the Machine's, whatever the event's labels say", async () => {
  const ns = await freshNamespace('obs');
  const infraNs = await freshNamespace('obs-infra');
  const elsewhere = await freshNamespace('obs-elsewhere');
  const m = await provisionedMachine(ns, infraNs);

  // Carries the Machine's labels, but is not where the Machine's spec puts its objects.
  const stray = await importedDv(m, elsewhere, ownership(m));
  assert.is(await post(fn.url, dvEvent(stray)), 200, fn.logs.slice(-3).join('\n'));
  // Where it should be, but another Machine's (by UID); the event's payload claims this one's.
  const other = await importedDv(m, infraNs, ownership(m, '00000000-0000-0000-0000-000000000000'));
  assert.is(await post(fn.url, dvEvent(other, ownership(m))), 200, fn.logs.slice(-3).join('\n'));
  const after = await machineNow(m);
  assert.is(after!.metadata.resourceVersion, m.metadata.resourceVersion, 'the Machine was not written');
  assert.is(importedFor(m).length, 0, 'no follow-up');

  // Control: once the DataVolume there is the Machine's, the same event imports it.
  await kube().patch(`${DVS(infraNs)}/${m.metadata.name}`, 'merge', { metadata: { labels: ownership(m) } });
  assert.is(await post(fn.url, dvEvent(other, ownership(m))), 200, fn.logs.slice(-3).join('\n'));
  assert.is((await machineNow(m))!.status?.providerStatus?.phase, 'ImageImported');
  await sink.waitFor((e) => e.type === FollowUpType.imageImported && e.subject === `${ns}/${m.metadata.name}`);
});

test("a Reference-mode Machine event (resync's Machine-keyed entry) imports the Machine's DataVolume; a foreign Machine's is left alone", async () => {
  const ns = await freshNamespace('obs-key');
  const infraNs = await freshNamespace('obs-key-infra');
  const m = await provisionedMachine(ns, infraNs);
  await importedDv(m, infraNs, ownership(m));
  const ref = (x: Obj) =>
    apiServerEvent({ mode: 'Reference', operation: 'update', structured: false }, {
      apiVersion: 'cluster.k8s.io/v1alpha1',
      kind: 'Machine',
      metadata: { name: x.metadata.name, namespace: x.metadata.namespace },
    } as never);
  assert.is(await post(fn.url, ref(m)), 200, fn.logs.slice(-3).join('\n'));
  await eventually('ImageImported', async () => (await machineNow(m))!.status?.providerStatus?.phase === 'ImageImported', {
    timeoutMs: 5_000,
  });
  await sink.waitFor((e) => e.type === FollowUpType.imageImported && e.subject === `${ns}/${m.metadata.name}`);

  // The same, for a Machine that another provider's spec makes foreign: never written.
  const f = await provisionedMachine(ns, infraNs);
  await importedDv(f, infraNs, ownership(f));
  const foreign = await kube().patch<Obj>(`${MACHINES}/namespaces/${ns}/machines/${f.metadata.name}`, 'merge', {
    spec: { providerSpec: { value: { cloudProvider: 'aws' } } },
  });
  assert.is(await post(fn.url, ref(foreign)), 200, fn.logs.slice(-3).join('\n'));
  assert.is((await machineNow(foreign))!.metadata.resourceVersion, foreign.metadata.resourceVersion, 'foreign Machine not written');
  assert.is(importedFor(foreign).length, 0);
});

test('a clone scheduled after its golden image failed: its own event tells its Machine (error, machine.image.failed); a clone of a golden still importing, nothing', async () => {
  const ns = await freshNamespace('obs-golden');
  const infraNs = await freshNamespace('obs-golden-infra');
  /** A golden image DataVolume in infraNs with the status CDI shows for it. */
  const golden = async (status: Record<string, unknown>): Promise<Obj> => {
    const name = goldenName(uniqueName('key'));
    await kube().create(
      DVS(infraNs),
      buildGoldenDataVolume({
        name,
        namespace: infraNs,
        source: { http: { url: 'http://images.example/gone.img' } },
        storage: { target: 'storage', storageClassName: '', accessMode: 'ReadWriteOnce' },
        content: { etag: '"v1"' },
        sizing: { ok: true, usableBytes: 1024 * 1024, request: '1Mi', fromImage: true },
      }),
    );
    return kube().patch<Obj>(`${DVS(infraNs)}/${name}/status`, 'merge', { status });
  };
  /** The Machine's disk, a clone of `g` as KubeVirt makes it from the VM's template, scheduled by CDI. */
  const scheduledClone = async (m: Obj, g: Obj): Promise<Obj> => {
    await kube().create(DVS(infraNs), {
      apiVersion: 'cdi.kubevirt.io/v1beta1',
      kind: 'DataVolume',
      metadata: { name: m.metadata.name, namespace: infraNs, labels: { ...ownership(m), [LABEL_GOLDEN]: g.metadata.name } },
      spec: { source: { pvc: { namespace: infraNs, name: g.metadata.name } }, storage: { resources: { requests: { storage: '1Mi' } } } },
    });
    return kube().patch<Obj>(`${DVS(infraNs)}/${m.metadata.name}/status`, 'merge', { status: { phase: 'CloneScheduled' } });
  };
  const importerError = {
    phase: 'ImportInProgress',
    restartCount: 5,
    conditions: [
      {
        type: 'Running',
        status: 'False',
        reason: 'Error',
        message: 'Unable to connect to http data source: expected status code 200, got 404. Status: 404 Not Found',
      },
    ],
  };
  const failedFor = (m: Obj) => sink.ofType(FollowUpType.imageFailed).filter((e) => e.subject === `${ns}/${m.metadata.name}`);

  const failed = await golden(importerError);
  const late = await provisionedMachine(ns, infraNs);
  assert.is(await post(fn.url, dvEvent(await scheduledClone(late, failed))), 200, fn.logs.slice(-3).join('\n'));
  const told = await machineNow(late);
  assert.is((told as any).status.errorReason, 'CreateError');
  assert.match(
    (told as any).status.errorMessage,
    `waits on golden image ${infraNs}/${failed.metadata.name}, whose import failed (Error, 5 restarts)`,
  );
  assert.is(told!.status?.providerStatus?.phase, 'Failed');
  await sink.waitFor((e) => e.type === FollowUpType.imageFailed && e.subject === `${ns}/${late.metadata.name}`);
  assert.is(failedFor(late)[0]!.data.dataVolume.name, failed.metadata.name);

  // Delivered again: nothing new (the error is as it was, the follow-up sent once per golden).
  assert.is(await post(fn.url, dvEvent((await kube().get<Obj>(`${DVS(infraNs)}/${late.metadata.name}`))!)), 200);
  assert.is((await machineNow(late))!.metadata.resourceVersion, told!.metadata.resourceVersion);
  assert.is(failedFor(late).length, 1);

  // A golden still importing: its clone waits, and its Machine is not written.
  const importing = await golden({ phase: 'ImportInProgress', progress: '12.00%' });
  const waiting = await provisionedMachine(ns, infraNs);
  assert.is(await post(fn.url, dvEvent(await scheduledClone(waiting, importing))), 200);
  assert.is((await machineNow(waiting))!.metadata.resourceVersion, waiting.metadata.resourceVersion);
  assert.is(failedFor(waiting).length, 0);
});

test.run();
