/**
 * Machine add → VirtualMachine (+ DataVolume template) and userdata Secret on the infra cluster,
 * exactly as `render` shows them; finalizer and status on the Machine; `machine.provisioning`
 * at the sink. Both the newest upstream example and the flat 2019 `sourceURL` one. With
 * IMAGE_CACHE=off, the configuration whose VMs are byte-identical to machine-controller's.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse as parseYaml, parseAllDocuments, stringify } from 'yaml';
import { adminKube } from '../support/admin.js';
import { eventually, freshNamespace } from '../support/kube.js';
import { startMachineEnv, exampleProviderSpec, machineObject, type MachineEnv } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { parseRenderArgs, render } from '../../../cli/render.js';
import { FollowUpType } from '../../../events/followup.js';
import { MACHINE_FINALIZER, LABEL_MACHINE_UID } from '../../../shared/constants.js';

const test = suite('machine function: provisioning');
let env: MachineEnv;

test.before(async () => {
  // IMAGE_CACHE=off: the VM must equal machine-controller's, which `render` prints by default
  // (the function's default, golden clones, is golden-image.test.ts's).
  env = await startMachineEnv({ extraEnv: { IMAGE_CACHE: 'off' } });
});
test.after(async () => {
  await env?.stop();
});

/** Every key/value of `expected` is present in `actual` (the API server may add defaults). */
function assertSubset(actual: any, expected: any, at = ''): void {
  if (expected === null || typeof expected !== 'object') {
    assert.equal(actual, expected, `value at ${at || '(root)'}`);
    return;
  }
  assert.ok(actual !== undefined && actual !== null, `missing ${at}`);
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${at} is not a list`);
    assert.is(actual.length, expected.length, `length of ${at}`);
  }
  for (const [k, v] of Object.entries(expected)) assertSubset(actual[k], v, `${at}.${k}`);
}

async function provisionFrom(file: string, name: string) {
  const ns = await freshNamespace('machines');
  const kube = adminKube();
  const { value, labels } = exampleProviderSpec(file, {
    kubeconfigB64: env.infraKubeconfigB64,
    kubeconfigRaw: env.saKubeconfig,
    imageUrl: env.imageUrl,
    infraNamespace: env.infraNamespace,
  });
  const created = await kube.create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(name, ns, value, labels));
  const status = await post(env.fn.url, resourceEvent('add', created, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'));
  return { ns, created, status, value, labels };
}

for (const [file, label] of [
  ['kubevirt-machinedeployment.yaml', 'newest example'],
  ['kubevirt-machinedeployment-2019-sourceurl.yaml', 'flat 2019 sourceURL example'],
] as const) {
  test(`${label}: VM and DataVolume template exactly as render shows them`, async () => {
    const name = `m-${label.startsWith('flat') ? 'flat' : 'new'}-${Math.random().toString(16).slice(2, 8)}`;
    const { ns, created, status } = await provisionFrom(file, name);
    assert.is(status, 200, env.fn.logs.slice(-3).join('\n'));
    const kube = adminKube();
    // the flat spec names its infra namespace itself (set to the test's); the nested one uses INFRA_NAMESPACE
    const infraNs = env.infraNamespace;
    const vm = await kube.get(`/apis/kubevirt.io/v1/namespaces/${infraNs}/virtualmachines/${name}`);
    assert.ok(vm, 'VirtualMachine exists');
    assert.is(vm.metadata.labels[LABEL_MACHINE_UID], created.metadata.uid);

    // What render prints for the same Machine with the same deployment-time inputs.
    const machineYaml = stringify(created);
    const flags = parseRenderArgs(['--namespace', infraNs, '--with-ownership', '--access-mode', 'ReadWriteOnce'], {});
    const r = await render(machineYaml, flags);
    assert.is(r.code, 0, r.stderr);
    const [rendered] = parseAllDocuments(r.stdout).map((d) => d.toJS());
    // render cannot know the Machine UID offline; it marks ownership with 'render'
    const expectedSpec = JSON.parse(JSON.stringify(rendered.spec).replaceAll('"render"', JSON.stringify(created.metadata.uid)));
    assertSubset(vm.spec, expectedSpec);
    assert.equal(Object.keys(vm.spec).sort(), Object.keys(expectedSpec).sort(), 'no extra top-level spec fields');
    for (const [k, v] of Object.entries(rendered.metadata.labels as Record<string, string>)) {
      assert.is(vm.metadata.labels[k], v === 'render' ? created.metadata.uid : v, `label ${k}`);
    }

    const secret = await kube.get(`/api/v1/namespaces/${infraNs}/secrets/userdata-${name}`);
    assert.ok(secret, 'userdata Secret exists');
    assert.is(secret.metadata.ownerReferences[0].uid, vm.metadata.uid, 'Secret is owned by the VM');
    const userdata = Buffer.from(secret.data.userdata, 'base64').toString();
    assert.match(userdata, /^#cloud-config/);
    assert.match(userdata, /ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKmf/);

    const m = await kube.get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`);
    assert.ok(m.metadata.finalizers.includes(MACHINE_FINALIZER), 'finalizer');
    assert.is(m.status.errorReason ?? null, null);
    assert.is(m.status.providerStatus.phase, 'Provisioning');
    assert.is(m.status.providerStatus.virtualMachine.name, vm.metadata.name);

    const ev = await env.sink.waitFor((e) => e.type === FollowUpType.provisioning && e.subject === `${ns}/${name}`);
    assert.is(ev.machineuid, created.metadata.uid);
    assert.is(ev.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    assert.is((ev.data as any).virtualMachine.uid, vm.metadata.uid);
    assert.ok(
      env.sink.headers.every((h) => h['ce-id'] !== undefined),
      'follow-ups are sent in binary mode',
    );
    if (label.startsWith('flat')) assert.ok((ev.data as any).deprecations.length > 0, 'flat spec reports deprecations');

    // Events are recorded without blocking the reply, as client-go's recorder does.
    await eventually(
      'Normal Created event',
      async () => {
        const events = await kube.request('GET', `/api/v1/namespaces/${ns}/events`, {
          query: { fieldSelector: `involvedObject.uid=${created.metadata.uid}` },
        });
        return events.items.some((e: any) => e.type === 'Normal' && e.reason === 'Created');
      },
      { timeoutMs: 5000 },
    );
  });
}

test('machine-controller\'s example as written (whenUnsatisfiable ""): KubeVirt refuses the VM; the Machine says so, no retry', async () => {
  const ns = await freshNamespace('machines');
  const kube = adminKube();
  const name = `m-tsc-${Math.random().toString(16).slice(2, 8)}`;
  const { value, labels } = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: env.infraKubeconfigB64,
    kubeconfigRaw: env.saKubeconfig,
    imageUrl: env.imageUrl,
    infraNamespace: env.infraNamespace,
    whenUnsatisfiable: '',
  });
  const created = await kube.create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(name, ns, value, labels));
  const status = await post(env.fn.url, resourceEvent('add', created));
  assert.is(status, 200, 'a permanent fault: handled, not retried');
  const m = await kube.get(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`);
  assert.is(m.status.errorReason, 'InvalidConfiguration');
  assert.match(
    m.status.errorMessage,
    `refused POST /apis/kubevirt.io/v1/namespaces/${env.infraNamespace}/virtualmachines: 422 Invalid: admission webhook`,
  );
  assert.match(m.status.errorMessage, 'whenUnsatisfiable in body should be one of [DoNotSchedule ScheduleAnyway]');
  assert.is(m.status.providerStatus.phase, 'Failed');
  assert.is(await kube.get(`/apis/kubevirt.io/v1/namespaces/${env.infraNamespace}/virtualmachines/${name}`), undefined, 'no VM');
  await env.sink.waitFor((e) => e.type === FollowUpType.failed && e.subject === `${ns}/${name}`);
});

test('function logs are structured JSON and carry no credentials', async () => {
  assert.ok(env.fn.logs.length > 0);
  for (const line of env.fn.logs) {
    const rec = JSON.parse(line);
    assert.ok(rec.level && rec.msg, line);
    assert.not.match(line, /BEGIN|certificate-authority-data|token:/);
    assert.not.ok(line.includes(env.infraKubeconfigB64.slice(0, 40)));
  }
  const parsed = parseYaml(env.saKubeconfig);
  const token = parsed.users[0].user.token as string;
  assert.not.ok(env.fn.logs.join('\n').includes(token.slice(0, 30)), 'no token in logs');
});

test.run();
