/**
 * Dry-run access to the test control plane for the knative/ manifest checks: raw requests that
 * keep the status, the body and the Warning headers (KubeClient.send), discovery, and the CRD
 * schemas the server serves.
 */
import { adminKube, ensureNamespace } from '../support/admin.js';
import { loadManifests, where, type KubeObject, type ManifestDoc, type SchemaNode } from './manifests.js';

const { objects } = loadManifests();
const FIELD_MANAGER = 'kmf-knative-dry-run';

export interface Answer {
  status: number;
  body: any;
  warnings: string[];
}

export async function call(
  method: string,
  apiPath: string,
  opts: { body?: unknown; contentType?: string; query?: Record<string, string> } = {},
): Promise<Answer> {
  const res = await adminKube().send(method, apiPath, opts);
  const w = res.headers.warning;
  return { status: res.status, body: res.body ?? res.text, warnings: w === undefined ? [] : Array.isArray(w) ? w : [w] };
}

export const message = (a: Answer): string => (typeof a.body === 'object' && a.body?.message) || String(a.body).slice(0, 300);

// ---------------------------------------------------------------------------------------
// Discovery: kind → resource (plural, scope), so every kind in knative/ is handled without a
// hand-kept map, and a kind the server does not serve fails by name.

const discovered = new Map<string, Map<string, { plural: string; namespaced: boolean }>>();

export async function resourceOf(obj: { apiVersion: string; kind: string }): Promise<{ plural: string; namespaced: boolean }> {
  let kinds = discovered.get(obj.apiVersion);
  if (!kinds) {
    const list = await adminKube().request<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
      'GET',
      obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`,
    );
    kinds = new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]));
    discovered.set(obj.apiVersion, kinds);
  }
  const r = kinds.get(obj.kind);
  if (!r) throw new Error(`${obj.apiVersion} ${obj.kind} is not served by the API server`);
  return r;
}

export async function paths(obj: KubeObject): Promise<{ collection: string; item: string }> {
  const r = await resourceOf(obj);
  const prefix = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = r.namespaced ? `/namespaces/${obj.metadata.namespace}` : '';
  const collection = `${prefix}${ns}/${r.plural}`;
  return { collection, item: `${collection}/${obj.metadata.name}` };
}

const DRY_STRICT = { dryRun: 'All', fieldValidation: 'Strict' };

/** Server-side apply, dry run, strict. */
export async function dryRunApply(obj: KubeObject): Promise<Answer> {
  return call('PATCH', (await paths(obj)).item, {
    body: obj,
    contentType: 'application/apply-patch+yaml',
    query: { ...DRY_STRICT, fieldManager: FIELD_MANAGER, force: 'true' },
  });
}

/** Strict create, or replace when the object exists (dry run either way). */
export async function dryRunWrite(obj: KubeObject): Promise<Answer> {
  const p = await paths(obj);
  const live = await call('GET', p.item);
  if (live.status === 404) return call('POST', p.collection, { body: obj, query: { ...DRY_STRICT, fieldManager: FIELD_MANAGER } });
  if (live.status !== 200) throw new Error(`GET ${p.item}: ${live.status} ${message(live)}`);
  const body = { ...obj, metadata: { ...obj.metadata, resourceVersion: live.body.metadata.resourceVersion } };
  return call('PUT', p.item, { body, query: { ...DRY_STRICT, fieldManager: FIELD_MANAGER } });
}

/**
 * Where `expected` (the manifest) is not contained in `actual` (the object the server would
 * store): pruned fields, changed values. Defaults the server adds are fine.
 */
export function lostFields(actual: unknown, expected: unknown, at = ''): string[] {
  if (expected === null || typeof expected !== 'object') {
    return actual === expected ? [] : [`${at || '(root)'}: wrote ${JSON.stringify(expected)}, stored ${JSON.stringify(actual)}`];
  }
  if (actual === null || typeof actual !== 'object') return [`${at}: wrote ${JSON.stringify(expected)}, stored ${JSON.stringify(actual)}`];
  if (Array.isArray(expected) && (!Array.isArray(actual) || actual.length !== expected.length)) return [`${at}: list changed`];
  return Object.entries(expected).flatMap(([k, v]) => lostFields((actual as Record<string, unknown>)[k], v, `${at}.${k}`));
}

/** Creates (for real) every namespace the manifests' namespaced objects live in. */
export async function ensureNamespacesOf(docs: ManifestDoc[]): Promise<void> {
  const namespaces = new Set(docs.map((d) => d.obj.metadata.namespace).filter((n): n is string => !!n));
  for (const ns of namespaces) await ensureNamespace(ns);
}

/** Runs `send` on every document; resolves with one line per rejection, warning or lost field. */
export async function problems(docs: ManifestDoc[], send: (o: KubeObject) => Promise<Answer>): Promise<string[]> {
  const out: string[] = [];
  for (const d of docs) {
    const a = await send(d.obj);
    if (a.status < 200 || a.status > 299) out.push(`${where(d)}: HTTP ${a.status} ${message(a)}`);
    else out.push(...lostFields(a.body, d.obj).map((l) => `${where(d)}: ${l}`));
    out.push(...a.warnings.map((w) => `${where(d)}: warning ${w}`));
  }
  return out;
}

const crdCache = new Map<string, any>();
/** The served CRD behind a kind (undefined for built-in kinds: no CRD of that name). */
export async function crdOf(obj: { apiVersion: string; kind: string }): Promise<any> {
  if (!obj.apiVersion.includes('/')) return undefined; // the core group
  const name = `${(await resourceOf(obj)).plural}.${obj.apiVersion.split('/')[0]}`;
  if (!crdCache.has(name)) crdCache.set(name, await adminKube().get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`));
  return crdCache.get(name);
}

export async function schemaOf(obj: KubeObject): Promise<SchemaNode | undefined> {
  const crd = await crdOf(obj);
  const version = obj.apiVersion.split('/')[1];
  return crd?.spec.versions.find((v: any) => v.name === version)?.schema?.openAPIV3Schema;
}

export const find = (kind: string, name: string): ManifestDoc => {
  const d = objects.find((o) => o.obj.kind === kind && o.obj.metadata.name === name);
  if (!d) throw new Error(`no ${kind} ${name} in knative/`);
  return d;
};
