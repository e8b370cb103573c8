/**
 * knative/ is deployable: every document of every YAML file under it is accepted by the test
 * control plane (real kube-apiserver, the upstream Knative, KubeVirt and CDI CRDs installed),
 * and the check demonstrably fails on broken copies.
 *
 * Two write paths, both dry-run (`dryRun=All`) with `fieldValidation=Strict`:
 * - server-side apply (PATCH application/apply-patch+yaml), what `kubectl apply --server-side`
 *   sends;
 * - a strict create (or replace, when the object exists), what client-side `kubectl apply -k`
 *   sends for a new object. It is not redundant: server-side apply does not report unknown
 *   fields anywhere below a schema node with `x-kubernetes-preserve-unknown-fields` (the
 *   whole `spec` of Trigger and ApiServerSource), strict decoding does — except directly at
 *   such a node, where nothing on the server can. For those places a local check compares
 *   the manifests with the CRD schemas the server serves (manifests.ts, undeclaredFields).
 *
 * The server has no Knative webhooks here, so this proves schema acceptance; the Knative-level
 * rules this deployment relies on (Trigger timeout ≤ Service timeout, TCP probe, references
 * that resolve, no wildcard RBAC) are checked by crossReferenceFindings, and the RBAC by
 * SubjectAccessReviews against the real authorizer.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import https from 'node:https';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments, stringify } from 'yaml';
import { adminKube, applyManifests, ensureNamespace } from '../support/admin.js';
import { eventually, kubeConfig } from '../support/kube.js';
import { FollowUpType, followUpSource } from '../../../events/followup.js';
import { ownershipLabels, withOwnership } from '../../../shared/infra/ownership.js';
import type { VirtualMachine } from '../../../shared/vm/types.js';
import {
  FUNCTIONS,
  KNATIVE_DIR,
  NAMESPACE,
  crossReferenceFindings,
  filtersMatch,
  kustomizeReach,
  loadManifests,
  undeclaredFields,
  where,
  type KubeObject,
  type ManifestDoc,
  type SchemaNode,
} from './manifests.js';

const test = suite('knative/: deployable manifests, checked by the API server');

const { objects, files } = loadManifests();
const FIELD_MANAGER = 'kmf-knative-dry-run';

// ---------------------------------------------------------------------------------------
// Raw API access: status, body and the Warning headers (KubeClient drops headers)

interface Answer {
  status: number;
  body: any;
  warnings: string[];
}

async function call(method: string, apiPath: string, opts: { body?: unknown; contentType?: string; query?: Record<string, string> } = {}): Promise<Answer> {
  const kc = kubeConfig(); // refuses anything but the test control plane
  const url = new URL(apiPath, kc.getCurrentCluster()!.server);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const req: https.RequestOptions = { agent: false, method, headers: { accept: 'application/json' } };
  await kc.applyToHTTPSOptions(req);
  req.headers = { ...req.headers, ...(payload ? { 'content-type': opts.contentType ?? 'application/json', 'content-length': String(payload.length) } : {}) };
  return new Promise((resolve, reject) => {
    const r = https.request(url, req, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
        const w = res.headers.warning;
        resolve({ status: res.statusCode ?? 0, body, warnings: w === undefined ? [] : Array.isArray(w) ? w : [w] });
      });
    });
    r.setTimeout(30_000, () => r.destroy(new Error(`timeout: ${method} ${apiPath}`)));
    r.on('error', reject);
    r.end(payload);
  });
}

const message = (a: Answer): string => (typeof a.body === 'object' && a.body?.message) || String(a.body).slice(0, 300);

// ---------------------------------------------------------------------------------------
// Discovery: kind → resource (plural, scope), so every kind in knative/ is handled without a
// hand-kept map, and a kind the server does not serve fails by name.

const discovered = new Map<string, Map<string, { plural: string; namespaced: boolean }>>();

async function resourceOf(obj: { apiVersion: string; kind: string }): Promise<{ plural: string; namespaced: boolean }> {
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

async function paths(obj: KubeObject): Promise<{ collection: string; item: string }> {
  const r = await resourceOf(obj);
  const prefix = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  const ns = r.namespaced ? `/namespaces/${obj.metadata.namespace}` : '';
  const collection = `${prefix}${ns}/${r.plural}`;
  return { collection, item: `${collection}/${obj.metadata.name}` };
}

const DRY_STRICT = { dryRun: 'All', fieldValidation: 'Strict' };

/** Server-side apply, dry run, strict. */
async function dryRunApply(obj: KubeObject): Promise<Answer> {
  return call('PATCH', (await paths(obj)).item, {
    body: obj,
    contentType: 'application/apply-patch+yaml',
    query: { ...DRY_STRICT, fieldManager: FIELD_MANAGER, force: 'true' },
  });
}

/** Strict create, or replace when the object exists (dry run either way). */
async function dryRunWrite(obj: KubeObject): Promise<Answer> {
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
function lostFields(actual: unknown, expected: unknown, at = ''): string[] {
  if (expected === null || typeof expected !== 'object') {
    return actual === expected ? [] : [`${at || '(root)'}: wrote ${JSON.stringify(expected)}, stored ${JSON.stringify(actual)}`];
  }
  if (actual === null || typeof actual !== 'object') return [`${at}: wrote ${JSON.stringify(expected)}, stored ${JSON.stringify(actual)}`];
  if (Array.isArray(expected) && (!Array.isArray(actual) || actual.length !== expected.length)) return [`${at}: list changed`];
  return Object.entries(expected).flatMap(([k, v]) => lostFields((actual as Record<string, unknown>)[k], v, `${at}.${k}`));
}

/** Creates (for real) every namespace the manifests' namespaced objects live in. */
async function ensureNamespacesOf(docs: ManifestDoc[]): Promise<void> {
  const namespaces = new Set(docs.map((d) => d.obj.metadata.namespace).filter((n): n is string => !!n));
  for (const ns of namespaces) await ensureNamespace(ns);
}

/** Runs `send` on every document; resolves with one line per rejection, warning or lost field. */
async function problems(docs: ManifestDoc[], send: (o: KubeObject) => Promise<Answer>): Promise<string[]> {
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
async function crdOf(obj: { apiVersion: string; kind: string }): Promise<any> {
  if (!obj.apiVersion.includes('/')) return undefined; // the core group
  const name = `${(await resourceOf(obj)).plural}.${obj.apiVersion.split('/')[0]}`;
  if (!crdCache.has(name)) crdCache.set(name, await adminKube().get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`));
  return crdCache.get(name);
}

async function schemaOf(obj: KubeObject): Promise<SchemaNode | undefined> {
  const crd = await crdOf(obj);
  const version = obj.apiVersion.split('/')[1];
  return crd?.spec.versions.find((v: any) => v.name === version)?.schema?.openAPIV3Schema;
}

const find = (kind: string, name: string): ManifestDoc => {
  const d = objects.find((o) => o.obj.kind === kind && o.obj.metadata.name === name);
  if (!d) throw new Error(`no ${kind} ${name} in knative/`);
  return d;
};

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

// ---------------------------------------------------------------------------------------

test.before(async () => {
  await ensureNamespacesOf(objects);
});

test('knative/ holds the whole deployment: every function, the sources, the Brokers, the PingSource', () => {
  const kinds = (k: string) => objects.filter((d) => d.obj.kind === k).map((d) => d.obj.metadata.name).sort();
  assert.equal(kinds('Broker'), ['dead-letters', 'default']);
  assert.equal([...new Set(kinds('ApiServerSource'))], ['datavolumes', 'machinedeployments', 'machines', 'machinesets', 'virtualmachineinstances']);
  assert.equal(kinds('Trigger'), [...FUNCTIONS].sort());
  assert.equal(objects.filter((d) => d.obj.apiVersion === 'serving.knative.dev/v1').map((d) => d.obj.metadata.name).sort(), [...FUNCTIONS].sort());
  assert.equal(kinds('PingSource'), ['resync']);
});

test('every document is accepted by server-side apply (dryRun=All, fieldValidation=Strict), nothing pruned, no warnings', async () => {
  assert.ok(objects.length >= 60, `only ${objects.length} documents found under knative/`);
  assert.equal(await problems(objects, dryRunApply), []);
});

test('every document is accepted by a strict create/replace (what client-side `kubectl apply` sends), nothing pruned, no warnings', async () => {
  assert.equal(await problems(objects, dryRunWrite), []);
});

test('custom resources are written in a version the server can store without a conversion webhook', async () => {
  const findings: string[] = [];
  let webhookKinds = 0;
  for (const d of objects) {
    const crd = await crdOf(d.obj);
    if (!crd || crd.spec.conversion?.strategy !== 'Webhook') continue;
    webhookKinds++;
    const storage = crd.spec.versions.find((v: any) => v.storage).name;
    if (d.obj.apiVersion !== `${crd.spec.group}/${storage}`) findings.push(`${where(d)}: ${d.obj.apiVersion}, storage version is ${storage}`);
  }
  assert.ok(webhookKinds >= 1, 'the PingSource CRD declares a conversion webhook: expected to check it');
  assert.equal(findings, []);
});

test('no field sits where the CRD preserves unknown fields without declaring it (the server would keep a typo silently)', async () => {
  const findings: string[] = [];
  for (const d of objects) {
    const schema = await schemaOf(d.obj);
    if (schema) findings.push(...undeclaredFields(d.obj, schema).map((f) => `${where(d)}: ${f}`));
  }
  assert.equal(findings, []);
});

test('references resolve and the deployment rules hold (Trigger timeout ≤ Service timeout, TCP probe, DLS, no wildcards)', () => {
  assert.equal(crossReferenceFindings(objects), []);
});

test('the kustomizations reach every manifest exactly once: knative/ for one cluster, split/ for two', () => {
  const objectFiles = [...new Set(objects.map((d) => d.file))].sort();
  const isSplit = (f: string) => f.startsWith(path.join('knative', 'split') + path.sep);
  const top = kustomizeReach(KNATIVE_DIR);
  assert.equal(top.problems, []);
  assert.equal(top.files, objectFiles.filter((f) => !isSplit(f)), 'knative/kustomization.yaml');
  const machines = kustomizeReach(path.join(KNATIVE_DIR, 'split', 'machines-cluster'));
  const infra = kustomizeReach(path.join(KNATIVE_DIR, 'split', 'infra-cluster'));
  assert.equal([...machines.problems, ...infra.problems], []);
  assert.equal(machines.files.filter((f) => infra.files.includes(f)), [], 'a file applied on both clusters');
  assert.equal([...machines.files, ...infra.files].sort(), objectFiles, 'split/ covers the deployment');
  // Every YAML file is either an object manifest or a kustomization.
  assert.equal(files.length, objectFiles.length + loadManifests().kustomizations.length);
});

test('`kubectl kustomize` of knative/ and of both split overlays builds, and its output passes the same dry run', async () => {
  if (!kubectl) {
    console.log('  (kubectl not on PATH: kustomize builds checked structurally only, by the previous test)');
    return;
  }
  const build = (dir: string): KubeObject[] => {
    const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    assert.is(r.status, 0, `kubectl kustomize ${dir}: ${r.stderr}`);
    return parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject).filter(Boolean);
  };
  const key = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const asDocs = (objs: KubeObject[], dir: string): ManifestDoc[] => objs.map((obj, index) => ({ file: `kubectl kustomize ${dir}`, index, obj }));

  const top = build(KNATIVE_DIR);
  const isSplit = (d: ManifestDoc) => d.file.startsWith(path.join('knative', 'split'));
  assert.equal(top.map(key).sort(), objects.filter((d) => !isSplit(d)).map((d) => key(d.obj)).sort(), 'the build is the files, unchanged in name and namespace');
  assert.equal(await problems(asDocs(top, 'knative'), dryRunApply), []);

  const infra = build(path.join(KNATIVE_DIR, 'split', 'infra-cluster'));
  const sinks = infra.filter((o) => o.kind === 'ApiServerSource').map((o) => o.spec.sink);
  assert.is(sinks.length, 2);
  for (const s of sinks) assert.ok(s.uri && !s.ref, `split infra sources must address the Machines' cluster Broker by URI: ${JSON.stringify(s)}`);
  assert.equal(await problems(asDocs(infra, 'split/infra-cluster'), dryRunApply), []);
  const machines = build(path.join(KNATIVE_DIR, 'split', 'machines-cluster'));
  assert.not.ok(machines.some((o) => o.kind === 'ApiServerSource' && ['datavolumes', 'virtualmachineinstances'].includes(o.metadata.name)));
  // The functions that touch KubeVirt get their infra kubeconfig there.
  const envOf = (name: string) => machines.find((o) => o.kind === 'Service' && o.metadata.name === name)!.spec.template.spec.containers[0].env.map((e: any) => e.name);
  for (const fn of ['datavolume', 'vmi', 'resync']) assert.ok(envOf(fn).includes('INFRA_KUBECONFIG'), fn);
  assert.ok(envOf('machine').includes('KUBEVIRT_KUBECONFIG'));
  assert.equal(await problems(asDocs(machines, 'split/machines-cluster'), dryRunApply), []);
});

// ---------------------------------------------------------------------------------------
// The check works: deliberately broken copies

type Outcome = RegExp | 'accepted';
interface Broken {
  what: string;
  kind: string;
  name: string;
  mutate(o: any): void;
  /** Server-side apply's answer. */
  apply: Outcome;
  /** Strict create/replace's answer. */
  write: Outcome;
  /** The local undeclared-field check, where the server cannot see the mistake. */
  local?: RegExp;
}

const BROKEN: Broken[] = [
  {
    what: 'misspelled Knative Service field (containerConcurency)',
    kind: 'Service',
    name: 'machine',
    mutate: (o) => {
      o.spec.template.spec.containerConcurency = o.spec.template.spec.containerConcurrency;
      delete o.spec.template.spec.containerConcurrency;
    },
    apply: /\.spec\.template\.spec\.containerConcurency: field not declared in schema/,
    write: /strict decoding error: unknown field "spec\.template\.spec\.containerConcurency"/,
  },
  {
    what: 'wrong type: Service timeoutSeconds as a string',
    kind: 'Service',
    name: 'machine',
    mutate: (o) => void (o.spec.template.spec.timeoutSeconds = '30'),
    apply: /\.spec\.template\.spec\.timeoutSeconds: expected numeric \(int or float\), got string/,
    write: /spec\.template\.spec\.timeoutSeconds in body must be of type integer: "string"/,
  },
  {
    what: 'wrong type: Trigger delivery.retry as a string',
    kind: 'Trigger',
    name: 'machine',
    mutate: (o) => void (o.spec.delivery.retry = 'ten'),
    apply: /\.spec\.delivery\.retry: expected numeric \(int or float\), got string/,
    write: /spec\.delivery\.retry in body must be of type integer: "string"/,
  },
  {
    what: "unknown field inside a Trigger's spec (subscriber.ref.nmae)",
    kind: 'Trigger',
    name: 'machine',
    mutate: (o) => {
      o.spec.subscriber.ref.nmae = o.spec.subscriber.ref.name;
      delete o.spec.subscriber.ref.name;
    },
    // Trigger.spec preserves unknown fields: server-side apply reports nothing below it.
    apply: 'accepted',
    write: /strict decoding error: unknown field "spec\.subscriber\.ref\.nmae"/,
  },
  {
    what: 'misspelled Trigger filter dialect (prefx)',
    kind: 'Trigger',
    name: 'vmi',
    mutate: (o) => {
      o.spec.filters[0] = { prefx: o.spec.filters[0].prefix };
    },
    apply: 'accepted',
    write: /strict decoding error: unknown field "spec\.filters\[0\]\.prefx"/,
  },
  {
    what: 'misspelled ApiServerSource resource selector (selectr)',
    kind: 'ApiServerSource',
    name: 'datavolumes',
    mutate: (o) => {
      o.spec.resources[0].selectr = o.spec.resources[0].selector;
      delete o.spec.resources[0].selector;
    },
    apply: 'accepted',
    write: /strict decoding error: unknown field "spec\.resources\[0\]\.selectr"/,
  },
  {
    what: 'misspelled Trigger delivery field (retries): invisible to the server, caught locally',
    kind: 'Trigger',
    name: 'machineset',
    mutate: (o) => {
      o.spec.delivery.retries = o.spec.delivery.retry;
      delete o.spec.delivery.retry;
    },
    apply: 'accepted',
    write: 'accepted',
    local: /\.spec\.delivery\.retries: not in the Trigger CRD schema/,
  },
  {
    what: "unknown field at the top of a Trigger's spec (brokr): invisible to the server, caught locally",
    kind: 'Trigger',
    name: 'resync',
    mutate: (o) => void (o.spec.brokr = 'default'),
    apply: 'accepted',
    write: 'accepted',
    local: /\.spec\.brokr: not in the Trigger CRD schema/,
  },
  {
    what: 'misspelled PingSource field (shedule)',
    kind: 'PingSource',
    name: 'resync',
    mutate: (o) => {
      o.spec.shedule = o.spec.schedule;
      delete o.spec.schedule;
    },
    apply: /\.spec\.shedule: field not declared in schema/,
    write: /strict decoding error: unknown field "spec\.shedule"/,
  },
  {
    what: 'misspelled ClusterRole field (rule)',
    kind: 'ClusterRole',
    name: 'kubevirt-machine-functions-resync',
    mutate: (o) => {
      o.rule = o.rules;
      delete o.rules;
    },
    apply: /\.rule: field not declared in schema/,
    write: /strict decoding error: unknown field "rule"/,
  },
];

for (const b of BROKEN) {
  test(`broken copy — ${b.what}`, async () => {
    const copy = structuredClone(find(b.kind, b.name).obj);
    b.mutate(copy);
    const check = (label: string, a: Answer, want: Outcome) => {
      if (want === 'accepted') {
        assert.ok(a.status >= 200 && a.status < 300, `${label}: expected the server to accept it (documenting a blind spot), got HTTP ${a.status} ${message(a)}`);
      } else {
        // kube-apiserver answers a server-side apply whose body does not fit the schema with
        // 500 "failed to create typed patch object" (not 4xx), as `kubectl apply --server-side`
        // shows; it is still a rejection with the field named.
        const typedPatch = label === 'server-side apply' && a.status === 500 && message(a).startsWith('failed to create typed patch object');
        assert.ok((a.status >= 400 && a.status < 500) || typedPatch, `${label}: expected a rejection, got HTTP ${a.status} ${message(a)}`);
        assert.match(message(a), want, `${label}: ${message(a)}`);
      }
    };
    check('server-side apply', await dryRunApply(copy), b.apply);
    check('strict create/replace', await dryRunWrite(copy), b.write);
    const schema = await schemaOf(copy);
    const local = schema ? undeclaredFields(copy, schema) : [];
    if (b.local) assert.ok(local.some((f) => b.local!.test(f)), `local check: ${JSON.stringify(local)}`);
    else assert.equal(local, [], 'local check: nothing expected');
    // Whatever the channel, every broken copy is caught by at least one of them.
    assert.ok(b.apply !== 'accepted' || b.write !== 'accepted' || b.local, 'a broken copy no check catches');
  });
}

test('the cross-reference check catches a Trigger timeout longer than its Service, an httpGet probe and a two-attribute exact filter', () => {
  const copies = objects.map((d) => ({ ...d, obj: structuredClone(d.obj) }));
  const dv = copies.find((d) => d.obj.kind === 'Trigger' && d.obj.metadata.name === 'datavolume')!;
  dv.obj.spec.filters = [{ exact: { kind: 'DataVolume', apiversion: 'cdi.kubevirt.io/v1beta1' } }];
  const trigger = copies.find((d) => d.obj.kind === 'Trigger' && d.obj.metadata.name === 'machine')!;
  trigger.obj.spec.delivery.timeout = 'PT5M';
  const svc = copies.find((d) => d.obj.kind === 'Service' && d.obj.metadata.name === 'vmi')!;
  svc.obj.spec.template.spec.containers[0].readinessProbe = { httpGet: { path: '/' } };
  const findings = crossReferenceFindings(copies);
  assert.ok(findings.some((f) => /Trigger kubevirt-machine-functions\/machine: delivery\.timeout PT5M is longer than Service machine's timeoutSeconds 30/.test(f)), findings.join('\n'));
  assert.ok(findings.some((f) => /Service kubevirt-machine-functions\/vmi: readiness must be a tcpSocket probe/.test(f)), findings.join('\n'));
  // The schema accepts it (exact preserves unknown fields); the Knative webhook would not.
  assert.ok(findings.some((f) => /Trigger kubevirt-machine-functions\/datavolume: spec\.filters\[0\]\.exact: 2 attributes \(kind, apiversion\)/.test(f)), findings.join('\n'));
});

test('the Trigger filters route every event to the functions that need it, and follow-ups nowhere', () => {
  const triggers = objects.filter((d) => d.obj.kind === 'Trigger');
  const route = (attrs: Record<string, string>) => triggers.filter((t) => filtersMatch(t.obj.spec.filters, attrs)).map((t) => t.obj.metadata.name).sort();
  const api = (mode: 'resource' | 'ref', op: string, kind: string, apiversion: string) => ({ type: `dev.knative.apiserver.${mode}.${op}`, source: 'https://10.96.0.1:443', kind, apiversion });
  const M = 'cluster.k8s.io/v1alpha1';
  const cases: [string, Record<string, string>, string[]][] = [
    ['Machine added', api('resource', 'add', 'Machine', M), ['machine', 'machineset']],
    ['Machine deleted', api('resource', 'delete', 'Machine', M), ['machine', 'machineset']],
    ['MachineSet updated', api('resource', 'update', 'MachineSet', M), ['machinedeployment', 'machineset']],
    ['MachineDeployment updated', api('resource', 'update', 'MachineDeployment', M), ['machinedeployment']],
    ['DataVolume updated', api('resource', 'update', 'DataVolume', 'cdi.kubevirt.io/v1beta1'), ['datavolume']],
    ['VMI updated', api('resource', 'update', 'VirtualMachineInstance', 'kubevirt.io/v1'), ['vmi']],
    // functions/resync re-announces Machines, DataVolumes and VMIs as Reference-mode updates.
    ['resync re-announces a Machine', { ...api('ref', 'update', 'Machine', M), source: followUpSource('resync') }, ['machine', 'machineset']],
    ['resync re-announces a DataVolume', { ...api('ref', 'update', 'DataVolume', 'cdi.kubevirt.io/v1beta1'), source: followUpSource('resync') }, ['datavolume']],
    ['resync re-announces a VMI', { ...api('ref', 'update', 'VirtualMachineInstance', 'kubevirt.io/v1'), source: followUpSource('resync') }, ['vmi']],
    ['our PingSource ticks', { type: 'dev.knative.sources.ping', source: `/apis/v1/namespaces/${NAMESPACE}/pingsources/resync` }, ['resync']],
    ['another PingSource ticks', { type: 'dev.knative.sources.ping', source: `/apis/v1/namespaces/${NAMESPACE}/pingsources/other` }, []],
    ['a VirtualMachine event (not watched)', api('resource', 'update', 'VirtualMachine', 'kubevirt.io/v1'), []],
  ];
  for (const [what, attrs, want] of cases) assert.equal(route(attrs), want, what);
  // Follow-ups go to the same Broker: no Trigger may take them (no loops, no duplicates).
  for (const type of Object.values(FollowUpType)) {
    assert.equal(route({ type, source: followUpSource('machine'), kind: 'Machine', apiversion: M, machinename: 'm' }), [], type);
  }
  // Every source's events reach a function.
  for (const d of objects.filter((o) => o.obj.kind === 'ApiServerSource')) {
    for (const r of d.obj.spec.resources) assert.ok(route(api('resource', 'add', r.kind, r.apiVersion)).length > 0, `${where(d)}: ${r.kind} events reach no Trigger`);
  }
});

test('the infra sources select exactly what the machine function labels: DataVolume templates and the VMI template', () => {
  const labels = ownershipLabels({ namespace: 'ns', name: 'm', uid: 'uid' }, 'cluster');
  const bare = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: 'm', namespace: 'infra', labels: {} },
    spec: { template: { metadata: { labels: {} }, spec: {} }, dataVolumeTemplates: [{ metadata: { name: 'm' }, spec: {} }] },
  } as unknown as VirtualMachine;
  const vm = withOwnership(bare, labels) as any;
  const labelsOf: Record<string, Record<string, string>> = {
    DataVolume: vm.spec.dataVolumeTemplates[0].metadata.labels,
    VirtualMachineInstance: vm.spec.template.metadata.labels,
  };
  for (const d of objects.filter((o) => o.obj.kind === 'ApiServerSource' && o.file.startsWith(path.join('knative', 'infra')))) {
    for (const r of d.obj.spec.resources) {
      const want = r.selector?.matchLabels ?? {};
      assert.ok(Object.keys(want).length > 0, `${where(d)}: selects every ${r.kind}, not only ours`);
      for (const [k, v] of Object.entries(want)) assert.is(labelsOf[r.kind]?.[k], v, `${where(d)}: ${r.kind} label ${k}`);
    }
  }
});

// ---------------------------------------------------------------------------------------
// RBAC, as the real authorizer decides it

type Access = [verb: string, group: string, resource: string, namespace: string];
const MACHINES = 'cluster.k8s.io';
const ANY_NS = 'some-user-namespace'; // cluster-wide grants hold in every namespace
const INFRA_NS = 'kube-system'; // the infra RoleBindings' namespace
const ALL = ''; // cluster-wide (a cluster-wide list/watch, as an adapter with namespaceSelector {} does)

const expand = (verbs: string[], group: string, resource: string, ns: string): Access[] => verbs.map((v) => [v, group, resource, ns]);

/**
 * What each identity must be able to do (the functions' needs; the sources' get/list/watch
 * as the ApiServerSource controller checks it) and spot checks of what it must not.
 */
const RBAC: { sa: string; allowed: Access[]; denied: Access[] }[] = [
  ...(
    [
      ['machines-source', MACHINES, 'machines'],
      ['machinesets-source', MACHINES, 'machinesets'],
      ['machinedeployments-source', MACHINES, 'machinedeployments'],
      ['datavolumes-source', 'cdi.kubevirt.io', 'datavolumes'],
      ['virtualmachineinstances-source', 'kubevirt.io', 'virtualmachineinstances'],
    ] as const
  ).map(([sa, group, resource]) => ({
    sa,
    allowed: [...expand(['get', 'list', 'watch'], group, resource, ALL), ...expand(['get', 'list', 'watch'], group, resource, ANY_NS)],
    denied: [...expand(['create', 'patch', 'delete'], group, resource, ANY_NS), ['list', '', 'secrets', ANY_NS] as Access, ['get', MACHINES, resource === 'machines' ? 'machinesets' : 'machines', ANY_NS] as Access],
  })),
  {
    sa: 'machine-function',
    allowed: [
      ...expand(['get', 'list', 'watch', 'patch', 'update'], MACHINES, 'machines', ANY_NS),
      ['get', MACHINES, 'machinesets', ANY_NS],
      ['get', '', 'secrets', ANY_NS],
      ['get', '', 'configmaps', ANY_NS],
      ['create', '', 'events', ANY_NS],
      ...expand(['get', 'list', 'create', 'patch', 'delete'], 'kubevirt.io', 'virtualmachines', INFRA_NS),
      ...expand(['get', 'list', 'delete'], 'cdi.kubevirt.io', 'datavolumes', INFRA_NS),
      ...expand(['get', 'list', 'create', 'patch', 'delete'], '', 'secrets', INFRA_NS),
      ['get', 'cdi.kubevirt.io', 'storageprofiles', ALL],
      ['get', 'storage.k8s.io', 'storageclasses', ALL],
    ],
    denied: [['delete', MACHINES, 'machines', ANY_NS], ['create', 'kubevirt.io', 'virtualmachines', ANY_NS], ['list', '', 'secrets', ANY_NS]],
  },
  {
    sa: 'datavolume-function',
    allowed: [
      ...expand(['get', 'list', 'patch'], MACHINES, 'machines', ANY_NS),
      ['create', '', 'events', ANY_NS],
      ...expand(['get', 'list'], 'cdi.kubevirt.io', 'datavolumes', INFRA_NS),
    ],
    denied: [['delete', MACHINES, 'machines', ANY_NS], ['delete', 'cdi.kubevirt.io', 'datavolumes', INFRA_NS], ['get', '', 'secrets', INFRA_NS]],
  },
  {
    sa: 'vmi-function',
    allowed: [
      ...expand(['get', 'list', 'patch'], MACHINES, 'machines', ANY_NS),
      ['create', '', 'events', ANY_NS],
      ...expand(['get', 'list'], 'kubevirt.io', 'virtualmachineinstances', INFRA_NS),
    ],
    denied: [['create', MACHINES, 'machines', ANY_NS], ['delete', 'kubevirt.io', 'virtualmachines', INFRA_NS], ['get', '', 'secrets', INFRA_NS]],
  },
  {
    sa: 'machineset-function',
    allowed: [
      ...expand(['get', 'list', 'watch', 'create', 'delete', 'patch'], MACHINES, 'machines', ANY_NS),
      ...expand(['get', 'list', 'patch'], MACHINES, 'machinesets', ANY_NS),
      ...expand(['patch', 'update'], MACHINES, 'machinesets/status', ANY_NS),
      ['create', '', 'events', ANY_NS],
    ],
    denied: [['patch', MACHINES, 'machinedeployments', ANY_NS], ['delete', MACHINES, 'machinesets', ANY_NS], ['get', '', 'nodes', ALL], ['get', '', 'secrets', ANY_NS]],
  },
  {
    sa: 'machinedeployment-function',
    allowed: [
      ...expand(['get', 'list', 'patch'], MACHINES, 'machinedeployments', ANY_NS),
      ...expand(['patch', 'update'], MACHINES, 'machinedeployments/status', ANY_NS),
      ...expand(['get', 'list', 'create', 'patch', 'delete'], MACHINES, 'machinesets', ANY_NS),
      ...expand(['get', 'list'], MACHINES, 'machines', ANY_NS),
      ['create', '', 'events', ANY_NS],
    ],
    denied: [['create', MACHINES, 'machines', ANY_NS], ['delete', MACHINES, 'machines', ANY_NS], ['delete', MACHINES, 'machinedeployments', ANY_NS]],
  },
  {
    // functions/resync lists cluster-wide (by label) and deletes orphaned VMs and DataVolumes.
    sa: 'resync-function',
    allowed: [
      ['list', MACHINES, 'machines', ALL],
      ['get', MACHINES, 'machines', ANY_NS],
      ...expand(['list'], 'kubevirt.io', 'virtualmachines', ALL),
      ...expand(['list'], 'cdi.kubevirt.io', 'datavolumes', ALL),
      ['list', 'kubevirt.io', 'virtualmachineinstances', ALL],
      ...expand(['delete'], 'kubevirt.io', 'virtualmachines', ANY_NS),
      ...expand(['delete'], 'cdi.kubevirt.io', 'datavolumes', ANY_NS),
    ],
    denied: [
      ['patch', MACHINES, 'machines', ANY_NS],
      ['delete', MACHINES, 'machines', ANY_NS],
      // An orphaned VM's userdata Secret goes with the VM (ownerReference): no Secret rights.
      ['get', '', 'secrets', ANY_NS],
      ['list', '', 'secrets', ALL],
      ['delete', '', 'secrets', ANY_NS],
      ['create', 'kubevirt.io', 'virtualmachines', ANY_NS],
      ['delete', 'kubevirt.io', 'virtualmachineinstances', ANY_NS],
    ],
  },
];

async function allowed(sa: string, [verb, group, resourcePath, namespace]: Access): Promise<boolean> {
  const [resource, subresource] = resourcePath.split('/');
  const review = await adminKube().request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: `system:serviceaccount:${NAMESPACE}:${sa}`,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'],
        resourceAttributes: { verb, group, resource, ...(subresource && { subresource }), ...(namespace && { namespace }) },
      },
    },
  });
  return review.status?.allowed === true;
}

test('RBAC: every source and function identity may do what it needs and not more (SubjectAccessReview)', async () => {
  // The RBAC objects of the single-cluster deployment, applied for real: the authorizer only
  // knows stored objects. Same names and rules the function tests apply; nothing else changes.
  const top = new Set(kustomizeReach(KNATIVE_DIR).files);
  const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
  for (const d of objects.filter((o) => top.has(o.file) && rbacKinds.has(o.obj.kind))) await applyManifests(stringify(d.obj));

  const listed = new Set(RBAC.map((r) => r.sa));
  const accounts = objects.filter((d) => top.has(d.file) && d.obj.kind === 'ServiceAccount').map((d) => d.obj.metadata.name);
  assert.equal(accounts.filter((a) => !listed.has(a)), [], 'a ServiceAccount without expectations');

  for (const { sa, allowed: yes, denied: no } of RBAC) {
    for (const access of yes) {
      // The authorizer reads RBAC through informers: a fresh grant takes a moment.
      await eventually(`${sa} may ${access.join(' ')}`, () => allowed(sa, access), { timeoutMs: 10_000, intervalMs: 100 });
    }
    for (const access of no) assert.not.ok(await allowed(sa, access), `${sa} must not ${access.join(' ')}`);
  }
});

test.run();
