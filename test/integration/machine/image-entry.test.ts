/**
 * The container image's entry — the function restored from its V8 startup snapshot
 * (dist/functions/machine/snapshot.blob) — provisions a Machine like the functions-framework
 * CLI does, and instances started from the same snapshot do not share random state (event ids
 * come from an entropy pool that must not have been captured in the snapshot).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { freshNamespace } from '../support/kube.js';
import { startMachineEnv, exampleProviderSpec, machineObject, type MachineEnv } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { FollowUpType } from '../../../events/followup.js';
import { MACHINE_FINALIZER } from '../../../shared/constants.js';

const test = suite('machine function: image entry (startup snapshot)');
const envs: MachineEnv[] = [];

test.before(async () => {
  // Two instances from the one snapshot, each with its own sink.
  envs.push(await startMachineEnv({ entry: 'image' }));
  envs.push(await startMachineEnv({ entry: 'image', infraNamespace: envs[0].infraNamespace }));
});
test.after(async () => {
  for (const e of envs) await e.stop();
});

test('each instance provisions a Machine: VM created, finalizer set, machine.provisioning sent; event ids differ', async () => {
  const ns = await freshNamespace('image-entry');
  const kube = adminKube();
  const ids: string[] = [];
  for (const [i, env] of envs.entries()) {
    const { value, labels } = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
      kubeconfigB64: env.infraKubeconfigB64,
      kubeconfigRaw: env.saKubeconfig,
      imageUrl: env.imageUrl,
      infraNamespace: env.infraNamespace,
    });
    const name = `snap-${i}-${Math.random().toString(16).slice(2, 8)}`;
    const created = await kube.create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(name, ns, value, labels));
    const status = await post(env.fn.url, resourceEvent('add', created));
    assert.is(status, 200, env.fn.logs.slice(-3).join('\n'));
    assert.ok(await kube.get(`/apis/kubevirt.io/v1/namespaces/${env.infraNamespace}/virtualmachines/${name}`), 'VirtualMachine exists');
    const m = await kube.get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`);
    assert.ok(m.metadata.finalizers.includes(MACHINE_FINALIZER));
    const ev = await env.sink.waitFor((e) => e.type === FollowUpType.provisioning && e.subject === `${ns}/${name}`);
    ids.push(ev.id);
    // structured JSON logs, as from the CLI entry
    assert.ok(
      env.fn.logs.some((l) => l.startsWith('{') && JSON.parse(l).msg === 'machine provisioned'),
      'structured log line',
    );
  }
  assert.is.not(ids[0], ids[1], 'instances from one snapshot generate different event ids');
});

test.run();
