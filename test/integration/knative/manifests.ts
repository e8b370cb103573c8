/**
 * The deployable manifests under knative/, read the way the dry-run test checks them, and the
 * checks that need no API server: kustomization coverage, cross-references (Trigger →
 * Service → ServiceAccount → RBAC, timeouts, Broker refs) and the field typos the API server
 * cannot see because the Knative CRDs preserve unknown fields in places.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const KNATIVE_DIR = path.join(repoRoot, 'knative');

/** The system's functions: one Knative Service, Trigger and ServiceAccount each. */
export const FUNCTIONS = ['machine', 'datavolume', 'vmi', 'machineset', 'machinedeployment', 'node', 'resync'] as const;
export const NAMESPACE = 'kubevirt-machine-functions';
export const BROKER_INGRESS = `http://broker-ingress.knative-eventing.svc.cluster.local/${NAMESPACE}/default`;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: any;
}

/** One YAML document of a manifest file. */
export interface ManifestDoc {
  /** Path relative to the repo root, for messages. */
  file: string;
  /** Index of the document in its file (0-based, empty documents counted). */
  index: number;
  obj: KubeObject;
}

export const where = (d: ManifestDoc): string =>
  `${d.file}#${d.index} ${d.obj.kind} ${d.obj.metadata?.namespace ? `${d.obj.metadata.namespace}/` : ''}${d.obj.metadata?.name}`;

/** Every .yaml/.yml file under `dir`, recursively, sorted. */
export function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

const isKustomization = (o: { apiVersion?: unknown }): boolean =>
  typeof o.apiVersion === 'string' && o.apiVersion.startsWith('kustomize.config.k8s.io/');

/**
 * Every document of every YAML file under `dir`. Syntax errors and duplicate keys throw
 * (kubectl would silently keep the last of two equal keys). Kustomization files are kept
 * apart: they are kubectl's input, not API objects.
 */
export function loadManifests(dir = KNATIVE_DIR): { objects: ManifestDoc[]; kustomizations: ManifestDoc[]; files: string[] } {
  const objects: ManifestDoc[] = [];
  const kustomizations: ManifestDoc[] = [];
  const files = yamlFilesUnder(dir);
  for (const abs of files) {
    const file = path.relative(repoRoot, abs);
    parseAllDocuments(readFileSync(abs, 'utf8'), { uniqueKeys: true }).forEach((doc, index) => {
      if (doc.errors.length > 0) throw new Error(`${file}#${index}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const obj = doc.toJS() as KubeObject | null;
      if (obj === null || obj === undefined) return;
      (isKustomization(obj) ? kustomizations : objects).push({ file, index, obj });
    });
  }
  return { objects, kustomizations, files };
}

/** Objects whose kind lives outside any namespace (the rest must name one). */
export const CLUSTER_SCOPED_KINDS = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);

// ---------------------------------------------------------------------------------------
// Kustomizations

/**
 * The manifest files a `kubectl apply -k <dir>` reads: `resources` entries, following
 * directories (which must hold a kustomization.yaml). Problems: missing entries, directories
 * without a kustomization, a file reached twice.
 */
export function kustomizeReach(dir: string): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  const visit = (d: string): void => {
    const kfile = path.join(d, 'kustomization.yaml');
    if (!existsSync(kfile)) {
      problems.push(`${path.relative(repoRoot, d)}: a directory resource without kustomization.yaml`);
      return;
    }
    const k = parseAllDocuments(readFileSync(kfile, 'utf8'))[0]?.toJS() as { resources?: string[] } | null;
    for (const entry of k?.resources ?? []) {
      const p = path.resolve(d, entry);
      if (!existsSync(p)) problems.push(`${path.relative(repoRoot, kfile)}: resource ${entry} does not exist`);
      else if (statSync(p).isDirectory()) visit(p);
      else if (files.includes(p)) problems.push(`${path.relative(repoRoot, kfile)}: ${entry} is reached twice`);
      else files.push(p);
    }
  };
  visit(dir);
  return { files: files.map((f) => path.relative(repoRoot, f)).sort(), problems };
}

// ---------------------------------------------------------------------------------------
// Where the API server is lax: unknown fields under x-kubernetes-preserve-unknown-fields

/** A node of a CRD's structural OpenAPI v3 schema (the parts walked here). */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/**
 * Fields Knative's Go types know but its CRD schemas leave undeclared (their parent preserves
 * unknown fields precisely so these pass): kind → schema path → field names.
 * `delivery.timeout`/`retryAfterMax` are the delivery-timeout / delivery-retryafter features
 * (eventing pkg/apis/duck/v1/delivery_types.go); `spec.filters` on ApiServerSource is the
 * new-apiserversource-filters feature (pkg/apis/sources/v1/apiserver_types.go).
 */
export const KNOWN_UNDECLARED: Record<string, Record<string, string[]>> = {
  Trigger: { '.spec.delivery': ['timeout', 'retryAfterMax'] },
  Broker: { '.spec.delivery': ['timeout', 'retryAfterMax'] },
  ApiServerSource: { '.spec': ['filters'] },
};

/**
 * Keys of `obj` (below apiVersion/kind/metadata) that sit where the schema declares
 * properties but also preserves unknown fields. There the API server keeps any key —
 * neither server-side apply nor strict decoding rejects it — so a typo such as
 * `delivery.retries` would be stored and silently ignored by Knative.
 */
export function undeclaredFields(obj: KubeObject, schema: SchemaNode): string[] {
  const known = KNOWN_UNDECLARED[obj.kind] ?? {};
  const findings: string[] = [];
  const walk = (value: unknown, node: SchemaNode | undefined, at: string): void => {
    if (!node || value === null || value === undefined) return;
    if (Array.isArray(value)) {
      if (node.items) value.forEach((v, i) => walk(v, node.items, `${at}[${i}]`));
      return;
    }
    if (typeof value !== 'object') return;
    const entries = Object.entries(value as Record<string, unknown>);
    if (node.properties) {
      for (const [k, v] of entries) {
        const child = node.properties[k];
        if (child) walk(v, child, `${at}.${k}`);
        else if (node['x-kubernetes-preserve-unknown-fields'] && !(known[at] ?? []).includes(k)) {
          findings.push(
            `${at}.${k}: not in the ${obj.kind} CRD schema, which preserves unknown fields at ${at || '(root)'}, so the API server accepts it without a word`,
          );
        }
      }
    } else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      for (const [k, v] of entries) walk(v, node.additionalProperties, `${at}.${k}`);
    }
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    walk(v, schema.properties?.[k], `.${k}`);
  }
  return findings;
}

// ---------------------------------------------------------------------------------------
// Trigger filters: the Knative webhook's admission rules and the Broker's matching

export interface Filter {
  exact?: Record<string, string>;
  prefix?: Record<string, string>;
  suffix?: Record<string, string>;
  all?: Filter[];
  any?: Filter[];
  not?: Filter;
  cesql?: string;
}

const ATTRIBUTE_NAME = /^[a-z][a-z0-9]*$/;

/**
 * What the eventing webhook refuses in `filters` (eventing pkg/apis/eventing/v1
 * trigger_validation.go, ValidateSubscriptionAPIFilter): more than one dialect in an entry,
 * more than one attribute in an exact/prefix/suffix map ("Multiple items found, can have only
 * one key-value"), attribute names that are not lower-case alphanumeric, empty values.
 */
export function filterAdmissionProblems(filters: Filter[], at = 'spec.filters'): string[] {
  const out: string[] = [];
  filters.forEach((f, i) => {
    const p = `${at}[${i}]`;
    const dialects = (['exact', 'prefix', 'suffix', 'all', 'any', 'not', 'cesql'] as const).filter((d) => f[d] !== undefined);
    if (dialects.length !== 1) out.push(`${p}: ${dialects.length} dialects (${dialects.join(', ')}), exactly one allowed`);
    for (const d of ['exact', 'prefix', 'suffix'] as const) {
      const map = f[d];
      if (!map) continue;
      const keys = Object.keys(map);
      if (keys.length !== 1)
        out.push(`${p}.${d}: ${keys.length} attributes (${keys.join(', ')}); the webhook allows one key-value per map`);
      for (const k of keys) {
        if (!ATTRIBUTE_NAME.test(k)) out.push(`${p}.${d}: attribute name "${k}" is not lower-case alphanumeric`);
        if (!map[k]) out.push(`${p}.${d}.${k}: empty value`);
      }
    }
    if (f.all) out.push(...filterAdmissionProblems(f.all, `${p}.all`));
    if (f.any) out.push(...filterAdmissionProblems(f.any, `${p}.any`));
    if (f.not) out.push(...filterAdmissionProblems([f.not], `${p}.not`));
  });
  return out;
}

/** Whether an event with these context attributes passes `filters` (all entries must match). */
export function filtersMatch(filters: Filter[], attrs: Record<string, string>): boolean {
  const one = (f: Filter): boolean => {
    const every = (map: Record<string, string> | undefined, test: (v: string, want: string) => boolean) =>
      Object.entries(map ?? {}).every(([k, want]) => attrs[k] !== undefined && test(attrs[k], want));
    if (f.exact) return every(f.exact, (v, w) => v === w);
    if (f.prefix) return every(f.prefix, (v, w) => v.startsWith(w));
    if (f.suffix) return every(f.suffix, (v, w) => v.endsWith(w));
    if (f.all) return f.all.every(one);
    if (f.any) return f.any.some(one);
    if (f.not) return !one(f.not);
    throw new Error(`filter dialect not evaluated here: ${JSON.stringify(f)}`);
  };
  return filters.every(one);
}

// ---------------------------------------------------------------------------------------
// Cross-references and the deployment's own rules

/** ISO-8601 duration of the forms Knative accepts here (PT…H…M…S) → seconds. */
export function isoDurationSeconds(text: string): number | undefined {
  const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(text);
  if (!m || text === 'PT') return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

const refKey = (kind: string, namespace: string | undefined, name: string): string => `${kind}/${namespace ?? ''}/${name}`;

/** Everything the manifests promise each other, as a list of broken promises. */
export function crossReferenceFindings(docs: ManifestDoc[]): string[] {
  const out: string[] = [];
  const byKey = new Map<string, ManifestDoc>();
  for (const d of docs) {
    const ns = CLUSTER_SCOPED_KINDS.has(d.obj.kind) ? undefined : d.obj.metadata.namespace;
    byKey.set(refKey(d.obj.kind, ns, d.obj.metadata.name), d);
  }
  const has = (kind: string, ns: string | undefined, name: string): boolean => byKey.has(refKey(kind, ns, name));
  const of = (kind: string): ManifestDoc[] => docs.filter((d) => d.obj.kind === kind);

  for (const d of docs) {
    const { obj } = d;
    const ns = obj.metadata.namespace;
    if (!CLUSTER_SCOPED_KINDS.has(obj.kind) && !ns) {
      out.push(`${where(d)}: no metadata.namespace (kubectl would put it in the current context's namespace)`);
    }
    // Brokers are referenced by Triggers (spec.broker), sources and dead-letter sinks.
    const brokerRefs: { at: string; ref?: { kind?: string; name?: string; namespace?: string } }[] = [];
    if (obj.kind === 'Trigger') brokerRefs.push({ at: 'spec.broker', ref: { kind: 'Broker', name: obj.spec?.broker } });
    if (obj.spec?.sink?.ref) brokerRefs.push({ at: 'spec.sink.ref', ref: obj.spec.sink.ref });
    if (obj.spec?.delivery?.deadLetterSink?.ref)
      brokerRefs.push({ at: 'spec.delivery.deadLetterSink.ref', ref: obj.spec.delivery.deadLetterSink.ref });
    for (const { at, ref } of brokerRefs) {
      if (ref?.kind === 'Broker' && !has('Broker', ref.namespace ?? ns, ref.name ?? ''))
        out.push(`${where(d)}: ${at} names Broker ${ref.name}, which no manifest defines`);
    }
  }

  for (const d of of('Role').concat(of('ClusterRole'))) {
    for (const [i, rule] of (d.obj.rules ?? []).entries()) {
      for (const field of ['verbs', 'resources', 'apiGroups'] as const) {
        if ((rule[field] ?? []).some((v: string) => v.includes('*'))) out.push(`${where(d)}: rules[${i}].${field} has a wildcard`);
      }
    }
  }
  for (const d of of('RoleBinding').concat(of('ClusterRoleBinding'))) {
    const { roleRef, subjects } = d.obj;
    const roleNs = roleRef.kind === 'Role' ? d.obj.metadata.namespace : undefined;
    if (!has(roleRef.kind, roleNs, roleRef.name))
      out.push(`${where(d)}: roleRef ${roleRef.kind} ${roleRef.name} is not defined in knative/`);
    for (const s of subjects ?? []) {
      if (s.kind === 'ServiceAccount' && !has('ServiceAccount', s.namespace, s.name))
        out.push(`${where(d)}: subject ServiceAccount ${s.namespace}/${s.name} is not defined in knative/`);
    }
  }

  for (const d of of('ApiServerSource')) {
    const { spec, metadata } = d.obj;
    if (spec.mode !== 'Resource') out.push(`${where(d)}: mode is ${spec.mode ?? '(default) Reference'}, the functions expect Resource`);
    if (!has('ServiceAccount', metadata.namespace, spec.serviceAccountName ?? 'default'))
      out.push(`${where(d)}: ServiceAccount ${spec.serviceAccountName} is not defined`);
  }

  const services = new Map(
    of('Service')
      .filter((d) => d.obj.apiVersion === 'serving.knative.dev/v1')
      .map((d) => [d.obj.metadata.name, d]),
  );
  for (const [name, d] of services) {
    const spec = d.obj.spec?.template?.spec ?? {};
    const ann = d.obj.spec?.template?.metadata?.annotations ?? {};
    const c = spec.containers?.[0] ?? {};
    const env = Object.fromEntries((c.env ?? []).filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    const bad = (msg: string): void => void out.push(`${where(d)}: ${msg}`);
    if (!has('ServiceAccount', d.obj.metadata.namespace, spec.serviceAccountName ?? 'default'))
      bad(`serviceAccountName ${spec.serviceAccountName} is not defined`);
    if (!(spec.containers?.length === 1)) bad('expected exactly one container');
    if (!c.readinessProbe?.tcpSocket || c.readinessProbe?.httpGet)
      bad('readiness must be a tcpSocket probe (functions-framework answers GET with 500)');
    if (typeof spec.timeoutSeconds !== 'number') bad('no timeoutSeconds');
    if (typeof spec.containerConcurrency !== 'number') bad('no containerConcurrency');
    for (const a of ['autoscaling.knative.dev/min-scale', 'autoscaling.knative.dev/max-scale']) if (!(a in ann)) bad(`no ${a} annotation`);
    if (!c.resources?.requests || !c.resources?.limits) bad('no resource requests/limits');
    if (env.FUNCTION_TARGET !== name) bad(`FUNCTION_TARGET is ${env.FUNCTION_TARGET}, expected the Service name ${name}`);
    if (env.NODE_ENV !== 'production') bad('NODE_ENV is not production');
    if (env.K_SINK !== BROKER_INGRESS) bad(`K_SINK is ${env.K_SINK}, expected the default Broker's ingress ${BROKER_INGRESS}`);
  }
  for (const f of FUNCTIONS) if (!services.has(f)) out.push(`no Knative Service for the ${f} function`);

  const triggered = new Set<string>();
  for (const d of of('Trigger')) {
    const { spec } = d.obj;
    const bad = (msg: string): void => void out.push(`${where(d)}: ${msg}`);
    const ref = spec.subscriber?.ref;
    const svc = ref?.kind === 'Service' ? services.get(ref.name) : undefined;
    if (!svc) {
      bad(`subscriber ${ref?.kind} ${ref?.name} is not a Knative Service defined in knative/`);
      continue;
    }
    triggered.add(ref.name);
    if (!Array.isArray(spec.filters) || spec.filters.length === 0) bad('no `filters`');
    else for (const p of filterAdmissionProblems(spec.filters)) bad(`${p} (the Knative webhook refuses this)`);
    if (spec.filter) bad('legacy `filter` set (ignored when `filters` is set)');
    const del = spec.delivery ?? {};
    if (!(del.retry >= 1) || del.backoffPolicy !== 'exponential' || !del.backoffDelay)
      bad('delivery needs retry >= 1 with exponential backoff');
    if (!del.deadLetterSink) bad('no dead-letter sink');
    const timeout = del.timeout === undefined ? undefined : isoDurationSeconds(del.timeout);
    const limit = svc.obj.spec.template.spec.timeoutSeconds;
    if (timeout === undefined) bad(`delivery.timeout ${del.timeout} missing or not an ISO-8601 PT…S duration`);
    else if (timeout > limit) bad(`delivery.timeout ${del.timeout} is longer than Service ${ref.name}'s timeoutSeconds ${limit}`);
  }
  for (const f of FUNCTIONS) if (!triggered.has(f)) out.push(`no Trigger delivers to the ${f} function`);
  return out;
}
