/**
 * The machine function under test, the way it is deployed: its ServiceAccount and RBAC from
 * knative/ (not admin), the infra cluster reached through a kubeconfig in the Machine's spec
 * (same control plane, the same ServiceAccount bound by knative/infra/), follow-ups to a sink.
 */
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify, parseAllDocuments } from 'yaml';
import { applyManifests, ensureNamespace, serviceAccountKubeconfig, adminKube } from './admin.js';
import { startFunction, type FunctionEntry, type FunctionServer } from './function-server.js';
import { startSink, type TestSink } from './sink.js';
import { suite } from 'uvu';
import type { KubeClient } from '../../../shared/kube/rest.js';
import { freshNamespace, uniqueName } from './kube.js';
import { startImageServer, type ImageServer } from './image-server.js';
import { examplePath } from '../../support/examples.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FUNCTIONS_NAMESPACE = 'kubevirt-machine-functions';

export interface MachineEnv {
  fn: FunctionServer;
  sink: TestSink;
  infraNamespace: string;
  /** base64 kubeconfig of the function's ServiceAccount, for `auth.kubeconfig.value`. */
  infraKubeconfigB64: string;
  saKubeconfig: string;
  images: ImageServer;
  /** URL of a good raw image on the loopback image server. */
  imageUrl: string;
  stop(): Promise<void>;
}

/** Applies knative/machine/rbac.yaml and knative/infra/machine-rbac.yaml (RoleBinding in `infraNamespace`). */
export async function applyMachineRbac(infraNamespace: string): Promise<void> {
  await ensureNamespace(FUNCTIONS_NAMESPACE);
  await applyManifests(readFileSync(path.join(root, 'knative', 'machine', 'rbac.yaml'), 'utf8'), { namespace: FUNCTIONS_NAMESPACE });
  await applyInfraRbac(infraNamespace);
}

/**
 * What an operator does for each namespace Machines live in: knative/optional/machine-references-osm.yaml's
 * RoleBinding, moved to `namespace`, so the machine function may read references there.
 */
export async function bindReferences(namespace: string): Promise<void> {
  await ensureNamespace(namespace);
  const o = parseAllDocuments(readFileSync(path.join(root, 'knative', 'optional', 'machine-references-osm.yaml'), 'utf8'))[0]!.toJS();
  o.metadata.namespace = namespace;
  await applyManifests(stringify(o));
}

/** knative/infra/machine-rbac.yaml on the infra cluster (`kube`, default the test one), bound in `infraNamespace`. */
export async function applyInfraRbac(infraNamespace: string, kube?: KubeClient): Promise<void> {
  const infra = readFileSync(path.join(root, 'knative', 'infra', 'machine-rbac.yaml'), 'utf8');
  for (const d of parseAllDocuments(infra)) {
    const o = d.toJS();
    if (!o) continue;
    if (o.kind === 'RoleBinding') o.metadata.namespace = infraNamespace;
    await applyManifests(stringify(o), { kube });
  }
}

/** CDI's StorageProfile for a storage class (cluster-scoped), as CDI would publish it. */
export async function ensureStorageProfile(
  name: string,
  accessModes: string[] = ['ReadWriteOnce'],
  kube: KubeClient = adminKube(),
): Promise<void> {
  await applyManifests(stringify({ apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'StorageProfile', metadata: { name }, spec: {} }), {
    kube,
  });
  // status is a subresource on this CRD
  await kube.request('PATCH', `/apis/cdi.kubevirt.io/v1beta1/storageprofiles/${name}/status`, {
    body: { status: { storageClass: name, claimPropertySets: [{ accessModes, volumeMode: 'Filesystem' }] } },
    contentType: 'application/merge-patch+json',
  });
}

export async function startMachineEnv(
  opts: { infraNamespace?: string; extraEnv?: Record<string, string>; entry?: FunctionEntry } = {},
): Promise<MachineEnv> {
  const infraNamespace = opts.infraNamespace ?? uniqueName('infra');
  await ensureNamespace(infraNamespace);
  await applyMachineRbac(infraNamespace);
  await ensureStorageProfile('kubermatic-fast');
  await ensureStorageProfile('longhorn', ['ReadWriteMany']);
  const saKubeconfig = await serviceAccountKubeconfig(FUNCTIONS_NAMESPACE, 'machine-function');
  const dir = mkdtempSync(path.join(tmpdir(), 'kmf-machine-'));
  const kcPath = path.join(dir, 'kubeconfig');
  writeFileSync(kcPath, saKubeconfig, { mode: 0o600 });
  const sink = await startSink();
  const images = await startImageServer();
  const fn = await startFunction(
    'machine',
    {
      KUBECONFIG: kcPath,
      K_SINK: sink.url,
      INFRA_NAMESPACE: infraNamespace,
      // the test images are served on loopback, which the SSRF guard refuses by default
      IMAGE_PREFLIGHT_ALLOW_CIDRS: '127.0.0.0/8',
      ...(opts.extraEnv ?? {}),
    },
    undefined,
    undefined,
    opts.entry,
  );
  return {
    fn,
    sink,
    infraNamespace,
    saKubeconfig,
    infraKubeconfigB64: Buffer.from(saKubeconfig).toString('base64'),
    images,
    imageUrl: images.url('ubuntu.img'),
    async stop() {
      await fn.stop();
      await sink.close();
      await images.close();
    },
  };
}

/**
 * The providerSpec of an upstream example MachineDeployment, placeholders filled for tests.
 * machine-controller's example leaves `whenUnsatisfiable: ""` for the user to fill (its comment
 * names DoNotSchedule and ScheduleAnyway), and KubeVirt refuses a VM with "": it becomes
 * `fill.whenUnsatisfiable`, default ScheduleAnyway ('' keeps it as written).
 */
export function exampleProviderSpec(
  file: string,
  fill: { kubeconfigB64: string; kubeconfigRaw: string; imageUrl?: string; infraNamespace?: string; whenUnsatisfiable?: string },
): any {
  let text = readFileSync(examplePath(file), 'utf8');
  text = text
    .replaceAll('whenUnsatisfiable: ""', `whenUnsatisfiable: ${JSON.stringify(fill.whenUnsatisfiable ?? 'ScheduleAnyway')}`)
    .replaceAll('<< KUBECONFIG_BASE64 >>', fill.kubeconfigB64)
    .replaceAll("'<< KUBECONFIG >>'", JSON.stringify(fill.kubeconfigRaw))
    .replaceAll('<< OS_NAME >>', 'ubuntu')
    .replaceAll('<< YOUR_PUBLIC_KEY >>', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKmf test@kmf')
    .replace(/<< [A-Z_]+ >>/g, 'placeholder');
  const md = parseAllDocuments(text)[0].toJS();
  const value = md.spec.template.spec.providerSpec.value;
  if (fill.infraNamespace && value.cloudProviderSpec.namespace) value.cloudProviderSpec.namespace = fill.infraNamespace;
  if (fill.imageUrl) {
    const cps = value.cloudProviderSpec;
    if (cps.sourceURL) cps.sourceURL = fill.imageUrl;
    else cps.virtualMachine.template.primaryDisk.osImage = fill.imageUrl;
  }
  return { value, labels: md.spec.template.metadata?.labels ?? {} };
}

/** A Machine object (not yet created) with the given providerSpec value. */
export function machineObject(name: string, namespace: string, providerSpecValue: unknown, labels: Record<string, string> = {}): any {
  return {
    apiVersion: 'cluster.k8s.io/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace, labels },
    spec: { providerSpec: { value: providerSpecValue }, versions: { kubelet: '1.33.4' } },
  };
}

/**
 * A uvu suite whose tests share one machine function (started before, stopped after) and one
 * Machines namespace: `const { test, ctx } = machineSuite('…'); ctx.env, ctx.ns`.
 */
export function machineSuite(title: string): { test: ReturnType<typeof suite>; ctx: { env: MachineEnv; ns: string } } {
  const test = suite(title);
  const ctx = {} as { env: MachineEnv; ns: string };
  test.before(async () => {
    ctx.env = await startMachineEnv();
    ctx.ns = await freshNamespace('machines');
  });
  test.after(async () => {
    await ctx.env?.stop();
  });
  return { test, ctx };
}
