/**
 * Installs CustomResourceDefinitions (create, or server-side apply when they exist) and
 * waits until they are served.
 *
 * Never client-side apply: the KubeVirt VM and VMI CRDs exceed the 256 KiB
 * `last-applied-configuration` annotation it writes.
 *
 * Sources: the project's own machine-controller CRDs (crds/cluster.k8s.io, a product file)
 * and the upstream KubeVirt, CDI and Knative CRDs that dev/upstream generates and fetches
 * from pinned Go modules into a cache outside the repo — never copied into the repo.
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { FIELD_MANAGER } from '../../shared/constants.js';
import { ensureUpstream } from '../upstream/index.js';
import { kubeRequest, kubeWatch, type Credentials } from './kube-request.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The project's own Machine/MachineSet/MachineDeployment CRDs. */
export const projectCrdDir = path.join(repoRoot, 'crds', 'cluster.k8s.io');

/** All `.yaml`/`.yml` files of the given files and directories (directories not recursed). */
export function yamlFiles(paths: string[]): string[] {
  return paths.flatMap((p) => {
    if (!statSync(p).isDirectory()) return [p];
    return readdirSync(p)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => path.join(p, f));
  });
}

/** Every CRD file a cluster gets: ours plus KubeVirt, CDI and Knative (built or fetched on first use). */
export function defaultCrdFiles(): string[] {
  return yamlFiles([projectCrdDir, ...ensureUpstream().crdDirs]);
}

/** Parses every CustomResourceDefinition document in `files`. */
export async function readCrds(files: string[]): Promise<V1CustomResourceDefinition[]> {
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const obj = doc.toJS() as V1CustomResourceDefinition | null;
      if (obj?.kind === 'CustomResourceDefinition') crds.push(obj);
    }
  }
  return crds;
}

function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/**
 * Installs the CRDs in `files` and resolves with their names once each reports `Established`
 * and every served version lists.
 *
 * A CRD that does not exist yet is created (POST); one that exists is server-side applied
 * (forced, under our field manager), so re-installing on a live cluster is idempotent.
 * Why not always apply: on 2 cores SSA of KubeVirt's 600 KB VM/VMI CRDs costs 1.4 s (4 s
 * as a no-op re-apply) against 0.4 s for a create — managed-fields bookkeeping over the
 * whole schema — and on a fresh test cluster every CRD is new. `alwaysApply` forces SSA.
 */
export async function installCrds(kc: Credentials, files: string[], { timeoutMs = 60_000, alwaysApply = false } = {}): Promise<string[]> {
  const crds = await readCrds(files);
  const json = { 'content-type': 'application/json', accept: 'application/json' };

  // Established is set asynchronously after the write. One watch from a resourceVersion
  // taken before the writes sees every transition; polling GETs of 28 CRDs (two of them
  // 600 KB) would cost the apiserver more CPU than installing them.
  const list = await kubeRequest(kc, 'GET', `${CRD_PATH}?limit=1`, {
    headers: { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' },
  });
  if (list.status !== 200) throw new Error(`listing CRDs: HTTP ${list.status} ${list.body}`);
  const sinceVersion = (JSON.parse(list.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;

  const pending = new Set(crds.map((c) => c.metadata?.name ?? ''));
  await Promise.all(crds.map(async (crd) => {
    const name = crd.metadata?.name ?? '';
    const body = JSON.stringify(crd);
    let res = alwaysApply
      ? { status: 409, body: '' }
      : await kubeRequest(kc, 'POST', `${CRD_PATH}?fieldManager=${encodeURIComponent(FIELD_MANAGER)}`, { body, headers: json });
    if (res.status === 409) {
      // JSON is valid YAML, so the apply-patch+yaml content type takes it as is.
      res = await kubeRequest(kc, 'PATCH', `${CRD_PATH}/${encodeURIComponent(name)}?fieldManager=${encodeURIComponent(FIELD_MANAGER)}&force=true`, {
        body,
        headers: { ...json, 'content-type': 'application/apply-patch+yaml' },
      });
    }
    if (res.status !== 200 && res.status !== 201) throw new Error(`installing CRD ${name}: HTTP ${res.status} ${res.body}`);
    // An unchanged CRD re-applied on a live cluster produces no watch event.
    if (isEstablished(JSON.parse(res.body) as V1CustomResourceDefinition)) pending.delete(name);
  }));

  if (pending.size > 0) {
    const watchPath = `${CRD_PATH}?watch=true&allowWatchBookmarks=false&resourceVersion=${sinceVersion}&timeoutSeconds=${Math.ceil(timeoutMs / 1000)}`;
    await kubeWatch(kc, watchPath, (_type, obj) => {
      const crd = obj as V1CustomResourceDefinition;
      if (isEstablished(crd)) pending.delete(crd.metadata?.name ?? '');
      return pending.size === 0;
    }, timeoutMs).catch((e: unknown) => {
      throw new Error(`CRDs not Established: ${[...pending].join(', ')} (${e instanceof Error ? e.message : String(e)})`);
    });
  }
  await waitForStorage(kc, crds, timeoutMs);
  return crds.map((c) => c.metadata?.name ?? '');
}

/**
 * Established is not yet served: until a version's watch cache has initialized, lists answer
 * 429 "storage is (re)initializing" (seen in CI on a loaded machine: the first client after
 * start failed with it). "Ready" means every served version lists, so nobody's first request
 * meets that.
 */
async function waitForStorage(kc: Credentials, crds: V1CustomResourceDefinition[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const meta = { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' };
  const paths = crds.flatMap((c) => c.spec.versions.filter((v) => v.served).map((v) => `/apis/${c.spec.group}/${v.name}/${c.spec.names.plural}?limit=1`));
  await Promise.all(paths.map(async (p) => {
    for (;;) {
      const res = await kubeRequest(kc, 'GET', p, { headers: meta });
      if (res.status === 200) return;
      if (res.status !== 429 || Date.now() > deadline) throw new Error(`CRD storage not serving: GET ${p}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }));
}
