/**
 * The whole stack end to end (issue 6, acceptance 2 and 3): every function under its knative/
 * ServiceAccount, the event bridge routing as knative/'s Triggers do, the KubeVirt/CDI
 * simulator and the loopback image server — one stack for this file, one namespace per test.
 */
import { randomUUID } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { eventually, freshNamespace, uniqueName } from '../support/kube.js';
import type { Stack } from '../../../dev/stack/index.js';
import {
  LABEL_MACHINE_NAME,
  LABEL_MACHINE_NAMESPACE,
  LABEL_MACHINE_UID,
  LABEL_MANAGED_BY,
  MACHINE_FINALIZER,
  MANAGED_BY_VALUE,
} from '../../../shared/constants.js';
import {
  INFRA_NAMESPACE,
  MACHINES,
  VMS,
  createMachine,
  deadLettersMentioning,
  exampleMachineSpec,
  isReady,
  machinesIn,
  ourVms,
  resyncTick,
  sleep,
  startTestStack,
  triggerOf,
  vmsPerMachineUid,
  type MachineObj,
  type VmObj,
} from './stack-support.js';

const test = suite('e2e: the local stack (burst with a function restart, resync)');
let stack: Stack;
let logTail: () => string = () => '';
const namespaces: string[] = [];
const kube = () => adminKube();
const say = (line: string) => console.log(`    [stack e2e] ${line}`);

test.before(async () => {
  const t0 = Date.now();
  ({ stack, logTail } = await startTestStack());
  say(`stack up in ${Date.now() - t0} ms`);
});

test.after(async () => {
  if (!stack) return;
  // Leave nothing for later files' resync passes: delete our Machines while the functions
  // still run (the finalizer goes once the VM is gone). Best effort, bounded.
  const t0 = Date.now();
  await Promise.all(
    namespaces.map(async (ns) => {
      for (const m of await machinesIn(kube(), ns).catch(() => []))
        await kube()
          .delete(`${MACHINES}/namespaces/${ns}/machines/${m.metadata.name}`)
          .catch(() => {});
    }),
  );
  await eventually(
    'test Machines deleted',
    async () => (await Promise.all(namespaces.map((ns) => machinesIn(kube(), ns)))).every((l) => l.length === 0),
    { timeoutMs: 30_000 },
  ).catch((e) => say(`cleanup: ${(e as Error).message}`));
  say(`cleanup in ${Date.now() - t0} ms`);
  await stack.stop();
});

async function namespace(prefix: string): Promise<string> {
  const ns = await freshNamespace(prefix);
  namespaces.push(ns);
  return ns;
}

const machinePath = (ns: string, name: string) => `${MACHINES}/namespaces/${ns}/machines/${name}`;

/** Fails with the stack's recent log lines, which tell what the bridge and functions did. */
async function within(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  try {
    await eventually(what, check, { timeoutMs, intervalMs: 250 });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- stack log (tail) ---\n${logTail()}`, { cause: e });
  }
}

test('machine function killed during a burst of 50 Machines: the bridge retries, all 50 Ready, one VM each, no dead letters', async () => {
  const ns = await namespace('e2e-burst');
  const bridge = stack.bridge!;
  const machineTrigger = triggerOf(bridge, 'machine');
  const before = { ...bridge.stats().byTrigger[machineTrigger] };
  const spec = exampleMachineSpec(stack.imageUrl);
  const names = Array.from({ length: 50 }, (_, i) => uniqueName(`burst-${i}`));

  const t0 = Date.now();
  const creating = Promise.all(names.map((n) => createMachine(kube(), ns, n, spec)));
  // Kill it once the bridge is demonstrably delivering the burst to it.
  await within(
    'machine deliveries under way',
    async () => bridge.stats().byTrigger[machineTrigger].delivered - before.delivered >= 5,
    20_000,
  );
  const killedAt = Date.now() - t0;
  const deliveredAtKill = bridge.stats().byTrigger[machineTrigger].delivered - before.delivered;
  const restarting = stack.restartFunction('machine', 1500);
  const provisionedAtKill = (await machinesIn(kube(), ns)).filter((m) => m.status?.providerStatus).length;
  assert.ok(provisionedAtKill < 50, `killed mid-burst (${provisionedAtKill} of 50 had a providerStatus)`);
  await restarting;
  const backAt = Date.now() - t0;
  const created = await creating;
  const uids = new Set(created.map((m) => m.metadata.uid));

  let ready = 0;
  await within(
    'all 50 Machines Ready',
    async () => {
      ready = (await machinesIn(kube(), ns)).filter(isReady).length;
      return ready === 50;
    },
    120_000,
  );
  const readyAt = Date.now() - t0;
  const after = bridge.stats().byTrigger[machineTrigger];
  const retriedBy = Object.entries(bridge.stats().byTrigger)
    .filter(([, c]) => c.retried > 0)
    .map(([t, c]) => `${t} ${c.retried}`)
    .join(', ');
  const sim = stack.simulator!.stats();
  say(
    `burst: ${sim.importerProcesses} importer runs so far, ${Math.round(sim.importerMs / Math.max(1, sim.importerProcesses))} ms each on average; killed after ${killedAt} ms (${deliveredAtKill} deliveries done, ${provisionedAtKill} Machines with a providerStatus), back at ${backAt} ms; all 50 Ready at ${readyAt} ms; machine trigger: ${after.delivered - before.delivered} delivered, ${after.retried - before.retried} retried (all retries by trigger: ${retriedBy})`,
  );
  assert.ok(after.retried - before.retried > 0, 'the bridge retried deliveries to the restarted machine function');
  assert.is(bridge.stats().retried > 0, true);

  const machines = await machinesIn(kube(), ns);
  assert.is(machines.length, 50);
  for (const m of machines) assert.ok(isReady(m), `${m.metadata.name} Ready with an address: ${JSON.stringify(m.status)}`);

  const vms = (await ourVms(kube())).filter((vm) => vm.metadata.labels?.[LABEL_MACHINE_NAMESPACE] === ns);
  const perUid = vmsPerMachineUid(vms);
  for (const uid of uids) assert.is(perUid.get(uid) ?? 0, 1, `exactly one VM for Machine uid ${uid}`);
  assert.is(vms.length, 50, 'no VM beyond one per Machine');
  assert.equal(vms.map((v) => v.metadata.name).sort(), [...names].sort(), 'each VM is named after its Machine');
  const dead = deadLettersMentioning(bridge.deadLetters, [ns, ...names]);
  assert.equal(
    dead.map((d) => `${d.trigger} ${d.event.attributes.type} ${d.event.attributes.subject} ${d.lastStatus}`),
    [],
    'no dead letters',
  );
});

test('a Machine created while the bridge and its adapters are down (it exists when they start) is not provisioned until a resync tick, then becomes Ready', async () => {
  const ns = await namespace('e2e-resync');
  const name = uniqueName('missed');
  await stack.stopBridge();
  let m: MachineObj;
  try {
    m = await createMachine(kube(), ns, name, exampleMachineSpec(stack.imageUrl));
  } finally {
    await stack.startBridge();
  }
  // Knative's adapter drops its initial list: nothing is announced for a Machine that already exists.
  await sleep(3000);
  const idle = (await kube().get<MachineObj>(machinePath(ns, name)))!;
  assert.not.ok(idle.metadata.finalizers?.includes(MACHINE_FINALIZER), 'no finalizer: the machine function never saw it');
  assert.is(idle.status?.providerStatus, undefined, 'no providerStatus');
  assert.is(await kube().get(`${VMS}/${name}`), undefined, 'no VM');

  const resyncTrigger = triggerOf(stack.bridge!, 'resync');
  const t0 = Date.now();
  // The PingSource's tick, through the Broker ingress and the resync Trigger.
  assert.is(await resyncTick(stack.bridge!.ingressUrl), 202);
  await within(`${name} Ready after a resync tick`, async () => isReady(await kube().get<MachineObj>(machinePath(ns, name))), 30_000);
  say(`resync: Machine missed while the bridge was down Ready ${Date.now() - t0} ms after the tick`);
  // The pass answers after re-announcing everything, possibly after this Machine is Ready.
  await within(
    'the tick delivered through the resync Trigger',
    async () => stack.bridge!.stats().byTrigger[resyncTrigger].delivered >= 1,
    30_000,
  );
  const perUid = vmsPerMachineUid(await ourVms(kube()));
  assert.is(perUid.get(m.metadata.uid), 1, 'one VM');
  assert.equal(deadLettersMentioning(stack.bridge!.deadLetters, [ns, name]), []);
});

/** `Kind ns/name` of every `orphan deleted` record in the resync function's JSON log lines. */
function orphansLogged(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    try {
      const r = JSON.parse(l) as { msg?: string; kind?: string; object?: string };
      if (r.msg === 'orphan deleted') out.push(`${r.kind} ${r.object}`);
    } catch {
      // not a log record
    }
  }
  return out;
}

function vm(name: string, labels?: Record<string, string>) {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { runStrategy: 'Halted', template: { spec: { domain: { devices: {} } } } },
  };
}

const ours = (ns: string, name: string, uid: string) => ({
  [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  [LABEL_MACHINE_UID]: uid,
  [LABEL_MACHINE_NAMESPACE]: ns,
  [LABEL_MACHINE_NAME]: name,
});

test("resync deletes an orphaned VM (Machine gone, or a different Machine now); keeps the live Machine's VM; never touches a foreign VM", async () => {
  const ns = await namespace('e2e-orphans');
  const live = uniqueName('live');
  const m = await createMachine(kube(), ns, live, exampleMachineSpec(stack.imageUrl));
  await within(`${live} Ready`, async () => isReady(await kube().get<MachineObj>(machinePath(ns, live))), 30_000);
  const liveVm = (await kube().get<VmObj>(`${VMS}/${live}`))!;

  const orphan = await kube().create<VmObj>(VMS, vm(uniqueName('orphan'), ours(ns, uniqueName('gone'), randomUUID())));
  // Labels naming the live Machine's name but another uid: an earlier Machine of that name.
  const stale = await kube().create<VmObj>(VMS, vm(uniqueName('stale'), ours(ns, live, randomUUID())));
  const foreignName = uniqueName('foreign');
  await kube().create(VMS, vm(foreignName));
  // The simulator (virt-controller) writes its status once; snapshot it after that.
  let foreign!: VmObj & { status?: { printableStatus?: string } };
  await within(
    'foreign VM status written by the simulator',
    async () => !!(foreign = (await kube().get(`${VMS}/${foreignName}`))!).status?.printableStatus,
    10_000,
  );

  const resync = stack.functions.resync;
  const logsBefore = resync.logs.length;
  const t0 = Date.now();
  // Straight to the function: it answers once the pass (orphan deletion included) is done.
  const status = await resyncTick(resync.url);
  const passMs = Date.now() - t0;
  assert.ok(status >= 200 && status < 300, `resync answered ${status}`);
  await within(
    'orphaned VMs gone',
    async () => !(await kube().get(`${VMS}/${orphan.metadata.name}`)) && !(await kube().get(`${VMS}/${stale.metadata.name}`)),
    10_000,
  );
  say(`orphans: resync pass ${passMs} ms, orphans gone ${Date.now() - t0} ms after the tick`);

  const deleted = orphansLogged(resync.logs.slice(logsBefore));
  assert.ok(deleted.includes(`VirtualMachine ${INFRA_NAMESPACE}/${orphan.metadata.name}`), `the orphan deletion is logged: ${deleted}`);
  assert.ok(deleted.includes(`VirtualMachine ${INFRA_NAMESPACE}/${stale.metadata.name}`));
  for (const kept of [live, foreignName])
    assert.not.ok(deleted.includes(`VirtualMachine ${INFRA_NAMESPACE}/${kept}`), `${kept} not reported as an orphan`);

  // A second tick through the Broker: still nothing of the live Machine or the foreign VM touched.
  const resyncTrigger = triggerOf(stack.bridge!, 'resync');
  const delivered = stack.bridge!.stats().byTrigger[resyncTrigger].delivered;
  assert.is(await resyncTick(stack.bridge!.ingressUrl), 202);
  await within('second resync pass delivered', async () => stack.bridge!.stats().byTrigger[resyncTrigger].delivered > delivered, 10_000);

  const liveAfter = await kube().get<VmObj>(`${VMS}/${live}`);
  assert.is(liveAfter?.metadata.uid, liveVm.metadata.uid, 'the live Machine keeps its VM');
  assert.is(liveAfter?.metadata.deletionTimestamp, undefined);
  assert.ok(isReady(await kube().get<MachineObj>(machinePath(ns, live))), 'and stays Ready');
  const foreignAfter = await kube().get<VmObj>(`${VMS}/${foreignName}`);
  assert.is(foreignAfter?.metadata.uid, foreign.metadata.uid, 'the foreign VM is still there');
  assert.is(foreignAfter?.metadata.resourceVersion, foreign.metadata.resourceVersion, 'and unmodified');
  assert.is(vmsPerMachineUid(await ourVms(kube())).get(m.metadata.uid), 1);
  await kube().delete(`${VMS}/${foreignName}`);
});

test.run();
