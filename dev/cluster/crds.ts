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
import { parseAllDocuments } from 'yaml';
import { ApiError, type KubeClient } from '../../shared/kube/rest.js';
import { watchUntil } from '../kube/watch.js';
import { ensureUpstream } from '../upstream/index.js';

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

/** The parts of a CustomResourceDefinition this module reads; the rest is sent as written. */
export interface Crd {
  kind?: string;
  metadata?: { name?: string };
  spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Parses every CustomResourceDefinition document in `files`. */
export async function readCrds(files: string[]): Promise<Crd[]> {
  const crds: Crd[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const obj = doc.toJS() as Crd | null;
      if (obj?.kind === 'CustomResourceDefinition') crds.push(obj);
    }
  }
  return crds;
}

function isEstablished(crd: Crd): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
/** Metadata only: listings read here for their resourceVersion or status alone. */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

/**
 * Installs the CRDs in `files` and resolves with their names once each reports `Established`
 * and every served version lists.
 *
 * A CRD that does not exist yet is created (POST); one that exists is server-side applied
 * (forced, under our field manager), so re-installing on a live cluster is idempotent.
 * Why not always apply: on 2 cores SSA of KubeVirt's 600 KB VM/VMI CRDs costs 1.4 s (4 s
 * as a no-op re-apply) against 0.4 s for a create — managed-fields bookkeeping over the
 * whole schema — and on a fresh test cluster every CRD is new. `alwaysApply` forces SSA.
 * Both writes are KubeClient's, with fieldValidation=Strict: a CRD file carrying a field
 * apiextensions does not know fails the install instead of losing the field.
 */
export async function installCrds(kube: KubeClient, files: string[], { timeoutMs = 60_000, alwaysApply = false } = {}): Promise<string[]> {
  const crds = await readCrds(files);

  // Established is set asynchronously after the write. One watch from a resourceVersion
  // taken before the writes sees every transition; polling GETs of 28 CRDs (two of them
  // 600 KB) would cost the apiserver more CPU than installing them.
  const list = await kube
    .request<{ metadata: { resourceVersion: string } }>('GET', CRD_PATH, { query: { limit: 1 }, accept: METADATA_ONLY })
    .catch((e: Error) => {
      throw new Error(`listing CRDs: ${e.message}`);
    });
  const sinceVersion = list.metadata.resourceVersion;

  const pending = new Set(crds.map((c) => c.metadata?.name ?? ''));
  await Promise.all(
    crds.map(async (crd) => {
      const name = crd.metadata?.name ?? '';
      let stored: Crd;
      try {
        stored = alwaysApply
          ? await apply(kube, name, crd)
          : await kube.create<Crd>(CRD_PATH, crd).catch((e: unknown) => {
              if (e instanceof ApiError && e.status === 409) return apply(kube, name, crd);
              throw e;
            });
      } catch (e) {
        throw new Error(`installing CRD ${name}: ${(e as Error).message}`, { cause: e });
      }
      // An unchanged CRD re-applied on a live cluster produces no watch event.
      if (isEstablished(stored)) pending.delete(name);
    }),
  );

  if (pending.size > 0) {
    const query = { allowWatchBookmarks: false, resourceVersion: sinceVersion, timeoutSeconds: Math.ceil(timeoutMs / 1000) };
    await watchUntil(
      kube,
      CRD_PATH,
      query,
      (e) => {
        const crd = e.object as Crd;
        if (isEstablished(crd)) pending.delete(crd.metadata?.name ?? '');
        return pending.size === 0;
      },
      timeoutMs,
    ).catch((e: unknown) => {
      throw new Error(`CRDs not Established: ${[...pending].join(', ')} (${e instanceof Error ? e.message : String(e)})`);
    });
  }
  await waitForStorage(kube, crds, timeoutMs);
  return crds.map((c) => c.metadata?.name ?? '');
}

/** Server-side apply of a CRD (forced, our field manager). JSON is valid YAML, so the apply-patch+yaml content type takes it as is. */
function apply(kube: KubeClient, name: string, crd: Crd): Promise<Crd> {
  return kube.apply<Crd>(`${CRD_PATH}/${encodeURIComponent(name)}`, crd);
}

/**
 * Established is not yet served: until a version's watch cache has initialized, lists answer
 * 429 "storage is (re)initializing" (seen in CI on a loaded machine: the first client after
 * start failed with it). "Ready" means every served version lists, so nobody's first request
 * meets that. Polled every 100 ms through send(): the 429's Retry-After (1 s) is not waited.
 */
async function waitForStorage(kube: KubeClient, crds: Crd[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const paths = crds.flatMap((c) =>
    c.spec.versions.filter((v) => v.served).map((v) => `/apis/${c.spec.group}/${v.name}/${c.spec.names.plural}`),
  );
  await Promise.all(
    paths.map(async (p) => {
      for (;;) {
        const res = await kube.send('GET', p, { query: { limit: 1 }, accept: METADATA_ONLY });
        if (res.status === 200) return;
        if (res.status !== 429 || Date.now() > deadline)
          throw new Error(`CRD storage not serving: GET ${p}?limit=1: HTTP ${res.status} ${res.text.slice(0, 200)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }),
  );
}
