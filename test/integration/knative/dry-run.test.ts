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
 * that resolve, no wildcard RBAC) are checked by crossReferenceFindings (routing.test.ts tests
 * that check itself), and the RBAC by SubjectAccessReviews against the real authorizer
 * (rbac.test.ts).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import {
  FUNCTIONS,
  KNATIVE_DIR,
  crossReferenceFindings,
  kustomizeReach,
  loadManifests,
  undeclaredFields,
  where,
  type KubeObject,
  type ManifestDoc,
} from './manifests.js';
import { crdOf, dryRunApply, dryRunWrite, ensureNamespacesOf, find, message, problems, schemaOf, type Answer } from './dry-run-api.js';

const test = suite('knative/: deployable manifests, checked by the API server');

const { objects, files } = loadManifests();

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

// ---------------------------------------------------------------------------------------

test.before(async () => {
  await ensureNamespacesOf(objects);
});

test('knative/ holds the whole deployment: every function, the sources, the Brokers, the PingSource', () => {
  const kinds = (k: string) =>
    objects
      .filter((d) => d.obj.kind === k)
      .map((d) => d.obj.metadata.name)
      .sort();
  assert.equal(kinds('Broker'), ['dead-letters', 'default']);
  assert.equal(
    [...new Set(kinds('ApiServerSource'))],
    ['datavolumes', 'machinedeployments', 'machines', 'machinesets', 'nodes', 'virtualmachineinstances'],
  );
  assert.equal(kinds('Trigger'), [...FUNCTIONS].sort());
  assert.equal(
    objects
      .filter((d) => d.obj.apiVersion === 'serving.knative.dev/v1')
      .map((d) => d.obj.metadata.name)
      .sort(),
    [...FUNCTIONS].sort(),
  );
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
    if (d.obj.apiVersion !== `${crd.spec.group}/${storage}`)
      findings.push(`${where(d)}: ${d.obj.apiVersion}, storage version is ${storage}`);
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
  // knative/optional/: manifests an operator applies by hand where they apply (see each file).
  const isOptional = (f: string) => f.startsWith(path.join('knative', 'optional') + path.sep);
  const optionalFiles = [...new Set(objects.map((d) => d.file))].filter(isOptional);
  const objectFiles = [...new Set(objects.map((d) => d.file))].filter((f) => !isOptional(f)).sort();
  const isSplit = (f: string) => f.startsWith(path.join('knative', 'split') + path.sep);
  const top = kustomizeReach(KNATIVE_DIR);
  assert.equal(top.problems, []);
  assert.equal(
    top.files,
    objectFiles.filter((f) => !isSplit(f)),
    'knative/kustomization.yaml',
  );
  const machines = kustomizeReach(path.join(KNATIVE_DIR, 'split', 'machines-cluster'));
  const infra = kustomizeReach(path.join(KNATIVE_DIR, 'split', 'infra-cluster'));
  assert.equal([...machines.problems, ...infra.problems], []);
  assert.equal(
    machines.files.filter((f) => infra.files.includes(f)),
    [],
    'a file applied on both clusters',
  );
  assert.equal([...machines.files, ...infra.files].sort(), objectFiles, 'split/ covers the deployment');
  // Every YAML file is either an object manifest or a kustomization.
  assert.equal(files.length, objectFiles.length + optionalFiles.length + loadManifests().kustomizations.length);
});

test('`kubectl kustomize` of knative/ and of both split overlays builds, and its output passes the same dry run', async () => {
  if (!kubectl) {
    console.log('  (kubectl not on PATH: kustomize builds checked structurally only, by the previous test)');
    return;
  }
  const build = (dir: string): KubeObject[] => {
    const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    assert.is(r.status, 0, `kubectl kustomize ${dir}: ${r.stderr}`);
    return parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as KubeObject)
      .filter(Boolean);
  };
  const key = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const asDocs = (objs: KubeObject[], dir: string): ManifestDoc[] =>
    objs.map((obj, index) => ({ file: `kubectl kustomize ${dir}`, index, obj }));

  const top = build(KNATIVE_DIR);
  const isSplit = (d: ManifestDoc) => d.file.startsWith(path.join('knative', 'split'));
  const isOptional = (d: ManifestDoc) => d.file.startsWith(path.join('knative', 'optional'));
  assert.equal(
    top.map(key).sort(),
    objects
      .filter((d) => !isSplit(d) && !isOptional(d))
      .map((d) => key(d.obj))
      .sort(),
    'the build is the files, unchanged in name and namespace',
  );
  assert.equal(await problems(asDocs(top, 'knative'), dryRunApply), []);

  const infra = build(path.join(KNATIVE_DIR, 'split', 'infra-cluster'));
  const sinks = infra.filter((o) => o.kind === 'ApiServerSource').map((o) => o.spec.sink);
  assert.is(sinks.length, 2);
  for (const s of sinks)
    assert.ok(s.uri && !s.ref, `split infra sources must address the Machines' cluster Broker by URI: ${JSON.stringify(s)}`);
  assert.equal(await problems(asDocs(infra, 'split/infra-cluster'), dryRunApply), []);
  const machines = build(path.join(KNATIVE_DIR, 'split', 'machines-cluster'));
  assert.not.ok(machines.some((o) => o.kind === 'ApiServerSource' && ['datavolumes', 'virtualmachineinstances'].includes(o.metadata.name)));
  // The functions that touch KubeVirt get their infra kubeconfig there.
  const envOf = (name: string) =>
    machines.find((o) => o.kind === 'Service' && o.metadata.name === name)!.spec.template.spec.containers[0].env.map((e: any) => e.name);
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
    // Its first filter is a plain `prefix` (the vmi and datavolume Triggers' are `any`).
    name: 'machineset',
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
        assert.ok(
          a.status >= 200 && a.status < 300,
          `${label}: expected the server to accept it (documenting a blind spot), got HTTP ${a.status} ${message(a)}`,
        );
      } else {
        // kube-apiserver answers a server-side apply whose body does not fit the schema with
        // 500 "failed to create typed patch object" (not 4xx), as `kubectl apply --server-side`
        // shows; it is still a rejection with the field named.
        const typedPatch =
          label === 'server-side apply' && a.status === 500 && message(a).startsWith('failed to create typed patch object');
        assert.ok((a.status >= 400 && a.status < 500) || typedPatch, `${label}: expected a rejection, got HTTP ${a.status} ${message(a)}`);
        assert.match(message(a), want, `${label}: ${message(a)}`);
      }
    };
    check('server-side apply', await dryRunApply(copy), b.apply);
    check('strict create/replace', await dryRunWrite(copy), b.write);
    const schema = await schemaOf(copy);
    const local = schema ? undeclaredFields(copy, schema) : [];
    if (b.local)
      assert.ok(
        local.some((f) => b.local!.test(f)),
        `local check: ${JSON.stringify(local)}`,
      );
    else assert.equal(local, [], 'local check: nothing expected');
    // Whatever the channel, every broken copy is caught by at least one of them.
    assert.ok(b.apply !== 'accepted' || b.write !== 'accepted' || b.local, 'a broken copy no check catches');
  });
}

test.run();
