/**
 * What the machine function refuses, served as the image serves it (the startup snapshot,
 * scripts/serve.ts): CloudEvents without a usable specversion or id (400), and bodies over
 * MAX_EVENT_BYTES (413) — refused before they are held in memory, so the function's RSS stays
 * where it was however large the body and however many arrive at once. Nothing is written.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminKube } from '../support/admin.js';
import { freshNamespace, uniqueName } from '../support/kube.js';
import { startMachineEnv, exampleProviderSpec, machineObject, type MachineEnv } from '../support/machine-env.js';
import { post, resourceEvent } from '../support/apiserver-events.js';
import { DEFAULT_MAX_EVENT_BYTES } from '../../../shared/runtime/body-limit.js';

const test = suite('machine function: malformed and oversized events (image entry)');
const say = (line: string) => console.log(`    [event limits] ${line}`);
let env: MachineEnv;
let ns: string;

test.before(async () => {
  env = await startMachineEnv({ entry: 'image' });
  ns = await freshNamespace('event-limits');
});
test.after(async () => {
  await env?.stop();
});

const machinePath = (name: string) => `/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines/${name}`;
const vmPath = (name: string) => `/apis/kubevirt.io/v1/namespaces/${env.infraNamespace}/virtualmachines/${name}`;
const MiB = 1024 * 1024;

async function createMachine(name: string): Promise<any> {
  const { value } = exampleProviderSpec('kubevirt-machinedeployment.yaml', {
    kubeconfigB64: env.infraKubeconfigB64,
    kubeconfigRaw: env.saKubeconfig,
    imageUrl: env.imageUrl,
    infraNamespace: env.infraNamespace,
  });
  return adminKube().create(`/apis/cluster.k8s.io/v1alpha1/namespaces/${ns}/machines`, machineObject(name, ns, value));
}

/** The function process's resident set, from /proc. */
function rssMiB(): number {
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${env.fn.pid}/status`, 'utf8'))?.[1]);
  return Math.round((kib / 1024) * 10) / 10;
}

/** Nothing was done for the Machine: unchanged, no VM, no follow-up. */
async function untouched(m: any, what: string): Promise<void> {
  const now = await adminKube().get(machinePath(m.metadata.name));
  assert.is(now.metadata.resourceVersion, m.metadata.resourceVersion, `${what}: Machine unchanged`);
  assert.not.ok(await adminKube().get(vmPath(m.metadata.name)), `${what}: no VM`);
  assert.not.ok(
    env.sink.events.some((e) => e.subject === `${ns}/${m.metadata.name}`),
    `${what}: no follow-up event`,
  );
}

/**
 * A binary Resource-mode event for `m` whose body is `size` bytes: the Machine, padded with an
 * annotation. Sent in 1 MiB writes with a Content-Length or chunked; resolves with the status as
 * soon as the answer arrives (while the body may still be going out).
 */
function bigEvent(m: any, size: number, chunked: boolean): Promise<number> {
  const ev = resourceEvent('add', m);
  const json = JSON.stringify({ ...m, metadata: { ...m.metadata, annotations: { pad: '' } } });
  const head = Buffer.from(json.slice(0, json.indexOf('"pad":"') + 7));
  const tail = Buffer.from(json.slice(json.indexOf('"pad":"') + 7));
  const fill = Buffer.alloc(MiB, 'x');
  return new Promise((resolve, reject) => {
    const url = new URL(env.fn.url);
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      agent: false,
      headers: { ...ev.headers, ...(chunked ? {} : { 'content-length': String(size) }) },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode!);
    });
    // After the answer, the rest of the body is refused: a failing write is expected then.
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    let left = size - head.length - tail.length;
    req.write(head);
    const write = (): void => {
      while (left > 0) {
        const c = left >= fill.length ? fill : fill.subarray(0, left);
        left -= c.length;
        if (!req.write(c)) return void req.once('drain', write);
      }
      req.end(tail);
    };
    write();
  });
}

test('a CloudEvent without a usable specversion or id gets 400; nothing is done', async () => {
  const m = await createMachine(uniqueName('malformed'));
  const good = resourceEvent('add', m);
  const { 'ce-specversion': _sv, ...noSpecversion } = good.headers;
  const structured = (attrs: Record<string, unknown>) => ({
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({
      specversion: '1.0',
      id: 'e1',
      source: 'https://10.96.0.1:443',
      type: 'dev.knative.apiserver.resource.add',
      datacontenttype: 'application/json',
      data: m,
      ...attrs,
    }),
  });
  const { id: _id, ...withoutId } = JSON.parse(structured({}).body);
  const cases: [string, { headers: Record<string, string>; body: string }][] = [
    ['structured, "id" only inside data', { ...structured({}), body: JSON.stringify({ ...withoutId, data: { ...m, id: 'inner' } }) }],
    ['structured, id ""', structured({ id: '' })],
    ['structured, id 5', structured({ id: 5 })],
    [
      'structured, no specversion',
      { ...structured({}), body: JSON.stringify({ ...JSON.parse(structured({}).body), specversion: undefined }) },
    ],
    ['structured, specversion "0.3"', structured({ specversion: '0.3' })],
    ['binary, no ce-specversion', { headers: noSpecversion, body: good.body }],
    ['binary, ce-specversion 0.3', { headers: { ...good.headers, 'ce-specversion': '0.3' }, body: good.body }],
    ['binary, ce-id ""', { headers: { ...good.headers, 'ce-id': '' }, body: good.body }],
  ];
  for (const [what, ev] of cases) assert.is(await post(env.fn.url, ev), 400, `${what}: ${env.fn.logs.at(-1)}`);
  await untouched(m, 'malformed');
  // the same Machine, well-formed, is provisioned: the 400s were about the events
  assert.is(await post(env.fn.url, structured({})), 200, env.fn.logs.at(-1));
  assert.ok(await adminKube().get(vmPath(m.metadata.name)), 'VM for the well-formed event');
});

test('a 50 MB body gets 413 without being read: declared or chunked, one or four at once; RSS stays put; nothing is done', async () => {
  const m = await createMachine(uniqueName('oversized'));
  const before = rssMiB();
  const figures: string[] = [];
  for (const [what, n, chunked] of [
    ['declared length', 1, false],
    ['chunked', 1, true],
    ['declared length, 4 at once', 4, false],
    ['chunked, 4 at once', 4, true],
  ] as const) {
    const t = Date.now();
    const statuses = await Promise.all(Array.from({ length: n }, () => bigEvent(m, 50 * MiB, chunked)));
    assert.equal(statuses, Array(n).fill(413), what);
    const rss = rssMiB();
    figures.push(`${what}: ${rss} MiB after ${Date.now() - t} ms`);
    assert.ok(rss - before < 40, `${what}: RSS ${before} → ${rss} MiB`);
  }
  say(`RSS of the function: ${before} MiB before; ${figures.join('; ')}`);
  assert.ok(
    env.fn.logs.some((l) => l.includes('"outcome":"oversized"') && l.includes('"status":413')),
    'logged as oversized',
  );
  await untouched(m, 'oversized');
});

test(`a body just within MAX_EVENT_BYTES (${DEFAULT_MAX_EVENT_BYTES} bytes) is handled`, async () => {
  const m = await createMachine(uniqueName('largest'));
  assert.is(await bigEvent(m, DEFAULT_MAX_EVENT_BYTES, false), 200, env.fn.logs.at(-1));
  assert.ok(await adminKube().get(vmPath(m.metadata.name)), 'VM created');
  const m2 = await createMachine(uniqueName('one-more'));
  assert.is(await bigEvent(m2, DEFAULT_MAX_EVENT_BYTES + 1, true), 413);
  await untouched(m2, 'one byte over');
});

test.run();
