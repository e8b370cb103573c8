/**
 * Trigger delivery through the bridge's Broker, driven through its ingress: retries with
 * backoff, what is and is not retried, dead letters, per-attempt timeouts, replies and their
 * TTL, the dead-letter Broker, PingSource ticks, and the ingress's own answers.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge, ManifestError, type Bridge } from '../../../dev/bridge/index.js';
import { broker, serviceRef, sleep, startRecorder, trigger, yamlDocs, type Recorder } from './support.js';

const test = suite('bridge: delivery');
const NS = 'bridge-delivery';
const cleanups: (() => Promise<unknown>)[] = [];
test.after.each(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function recorder(): Promise<Recorder> {
  const r = await startRecorder();
  cleanups.push(() => r.close());
  return r;
}
async function bridge(
  docs: object[],
  subscribers: Record<string, string>,
  extra: { pingIntervalMs?: number } = {},
): Promise<{ b: Bridge; log: string[] }> {
  const log: string[] = [];
  const b = await startBridge({
    kubeconfig: '',
    manifests: [yamlDocs(...docs)],
    subscribers,
    log: (l) => log.push(l),
    backoffScale: 0.05,
    ...extra,
  });
  cleanups.push(() => b.stop());
  return { b, log };
}
/** POSTs a binary-mode event to the ingress; returns the status. */
async function post(url: string, type: string, extra: Record<string, string> = {}, body = '{"hello":"world"}'): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'ce-specversion': '1.0',
      'ce-id': crypto.randomUUID(),
      'ce-source': '/test',
      'ce-type': type,
      'ce-subject': 'thing',
      'content-type': 'application/json',
      ...extra,
    },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}
const only = (type: string) => ({ filters: [{ exact: { type } }] });

test('503 is retried with exponential backoff until it succeeds; the same event every time', async () => {
  const fn = await recorder();
  fn.answer = (_r, nth) => ({ status: nth <= 3 ? 503 : 200 });
  const { b } = await bridge(
    [
      broker(NS),
      trigger(NS, 'fn', {
        ...only('t.retry'),
        subscriber: serviceRef('fn'),
        delivery: { retry: 5, backoffPolicy: 'exponential', backoffDelay: 'PT2S' },
      }),
    ],
    { fn: fn.url },
  );
  assert.is(await post(b.ingressUrl, 't.retry'), 202);
  await fn.waitFor('4th attempt', () => fn.requests.length >= 4);
  await b.idle();
  const gaps = fn.requests.slice(1).map((r, i) => r.at - fn.requests[i]!.at);
  // PT2S × 0.05 = 100 ms, then ×2 each retry: 100, 200, 400.
  [100, 200, 400].forEach((want, i) =>
    assert.ok(gaps[i]! >= want - 5 && gaps[i]! < want + 250, `gap ${i + 1}: ${gaps[i]} ms, want ≈ ${want}`),
  );
  assert.is(new Set(fn.requests.map((r) => r.headers['ce-id'])).size, 1);
  assert.equal(b.stats().byTrigger.fn, { delivered: 1, retried: 3, deadLettered: 0 });
  assert.is(b.deadLetters.length, 0);
});

test('400 is dead-lettered at once; 500 is retried (linear) until the limit, then dead-lettered', async () => {
  const bad = await recorder();
  bad.answer = () => ({ status: 400, body: 'malformed' });
  const broken = await recorder();
  broken.answer = () => ({ status: 500 });
  const { b, log } = await bridge(
    [
      trigger(NS, 'bad', {
        ...only('t.bad'),
        subscriber: serviceRef('bad'),
        delivery: { retry: 3, backoffPolicy: 'exponential', backoffDelay: 'PT0.2S' },
      }),
      trigger(NS, 'broken', {
        ...only('t.broken'),
        subscriber: serviceRef('broken'),
        delivery: { retry: 3, backoffPolicy: 'linear', backoffDelay: 'PT2S' },
      }),
    ],
    { bad: bad.url, broken: broken.url },
  );
  await post(b.ingressUrl, 't.bad');
  await post(b.ingressUrl, 't.broken');
  await b.idle();
  assert.is(bad.requests.length, 1, '400 is not retried');
  assert.is(broken.requests.length, 4, '500: first attempt + 3 retries');
  const gaps = broken.requests.slice(1).map((r, i) => r.at - broken.requests[i]!.at);
  // Linear counts from 0 like go-retryablehttp: 0, 100, 200 ms.
  assert.ok(gaps[0]! < 80 && gaps[1]! >= 95 && gaps[2]! >= 195, `linear gaps ${gaps}`);
  assert.equal(b.deadLetters.map((d) => [d.trigger, d.lastStatus, d.event.attributes.type]).sort(), [
    ['bad', 400, 't.bad'],
    ['broken', 500, 't.broken'],
  ]);
  assert.ok(log.includes('dead letter: t.bad thing via trigger bad: last status 400'), log.join('\n'));
  assert.ok(log.includes('dead letter: t.broken thing via trigger broken: last status 500'), log.join('\n'));
  assert.equal(b.stats().byTrigger.broken, { delivered: 0, retried: 3, deadLettered: 1 });
});

test('per-attempt timeout and a non-CloudEvent 2xx body count as failures; dead letters reach the dead-letter Broker', async () => {
  const slow = await recorder();
  const chatty = await recorder();
  const dlq = await recorder();
  const { b } = await bridge(
    [
      broker(NS),
      broker(NS, 'dead-letters'),
      trigger(NS, 'slow', {
        ...only('t.slow'),
        subscriber: { uri: slow.url },
        delivery: {
          retry: 1,
          timeout: 'PT0.2S',
          deadLetterSink: { ref: { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: 'dead-letters' } },
        },
      }),
      trigger(NS, 'chatty', { ...only('t.chatty'), subscriber: serviceRef('chatty'), delivery: { retry: 1 } }),
      trigger(NS, 'dlq', { broker: 'dead-letters', subscriber: serviceRef('dlq') }),
    ],
    { chatty: chatty.url, dlq: dlq.url },
  );
  slow.answer = () => ({ status: 200, delayMs: 1000 });
  chatty.answer = () => ({ status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok thanks' });
  await post(b.ingressUrl, 't.chatty');
  await b.idle();
  assert.is(chatty.requests.length, 2, 'a 2xx with a non-event body is a 502 for the broker → retried');
  assert.equal(
    b.deadLetters.map((d) => [d.trigger, d.lastStatus]),
    [['chatty', 502]],
  );

  await post(b.ingressUrl, 't.slow');
  const dead = await dlq.waitFor('dead letter at the dead-letter Broker', () => true, 10_000);
  assert.is(dead.headers['ce-type'], 't.slow');
  assert.is(dead.headers['ce-knativeerrorcode'], '500');
  assert.is(dead.headers['ce-knativeerrordest'], slow.url);
  assert.match(Buffer.from(String(dead.headers['ce-knativeerrordata']), 'base64').toString(), /timed out after 200 ms/);
  assert.equal(b.deadLetters.at(-1)!.lastStatus, 0);
});

test('the ingress routes follow-up events (binary and structured) and answers 400/404/405', async () => {
  const fn = await recorder();
  const other = await recorder();
  const { b } = await bridge(
    [
      broker(NS),
      trigger(NS, 'followups', { ...only('com.example.followup'), subscriber: serviceRef('fn') }),
      trigger(NS, 'other', { ...only('com.example.other'), subscriber: serviceRef('other') }),
    ],
    { fn: fn.url, other: other.url },
  );
  assert.match(b.ingressUrl, new RegExp(`/${NS}/default$`));
  assert.is(
    await post(b.ingressUrl, 'com.example.followup', {
      'ce-machine': 'm1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    }),
    202,
  );
  const structured = await fetch(b.ingressUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({
      specversion: '1.0',
      id: 's1',
      source: '/test',
      type: 'com.example.followup',
      datacontenttype: 'application/json',
      data: { n: 2 },
    }),
  });
  assert.is(structured.status, 202);
  await fn.waitFor('both follow-ups', () => fn.requests.length === 2);
  const [bin, str] = [fn.requests.find((r) => r.headers['ce-machine'])!, fn.requests.find((r) => r.headers['ce-id'] === 's1')!];
  assert.is(bin.body.toString(), '{"hello":"world"}');
  assert.is(bin.headers.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  assert.equal(str.json(), { n: 2 });
  assert.is(str.headers['content-type'], 'application/json', 'structured in, binary out');
  assert.is(other.requests.length, 0);

  assert.is(
    (await fetch(b.ingressUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plain":"json"}' })).status,
    400,
  );
  assert.is(await post(b.ingressUrl, 'x', { 'ce-specversion': '0.3' }), 400);
  assert.is((await fetch(b.ingressUrl)).status, 405);
  assert.is(await post(b.ingressUrl.replace(/default$/, 'nope'), 'x'), 404);
  assert.is(await post(b.ingressUrl.replace(/\/[^/]+\/default$/, '/'), 'com.example.followup'), 202, '/ is the default Broker');
});

test('a 200 reply carrying a CloudEvent goes back through the Broker; a reply loop ends at the TTL', async () => {
  const first = await recorder();
  const second = await recorder();
  const looping = await recorder();
  const reply = (type: string) => ({
    status: 200,
    headers: {
      'ce-specversion': '1.0',
      'ce-id': crypto.randomUUID(),
      'ce-source': '/fn',
      'ce-type': type,
      'content-type': 'application/json',
    },
    body: '{"r":1}',
  });
  first.answer = () => reply('t.reply');
  looping.answer = () => reply('t.loop');
  const { b, log } = await bridge(
    [
      trigger(NS, 'first', { ...only('t.start'), subscriber: serviceRef('first') }),
      trigger(NS, 'second', { ...only('t.reply'), subscriber: serviceRef('second') }),
      trigger(NS, 'loop', { ...only('t.loop'), subscriber: serviceRef('looping') }),
    ],
    { first: first.url, second: second.url, looping: looping.url },
  );
  await post(b.ingressUrl, 't.start');
  const got = await second.waitFor('the reply', () => true);
  assert.equal(got.json(), { r: 1 });
  await post(b.ingressUrl, 't.loop');
  await b.idle();
  assert.is(looping.requests.length, 255, 'delivered once per TTL step, then dropped');
  assert.is(b.stats().droppedTtl, 1);
  assert.ok(log.some((l) => l.includes('knativebrokerttl exhausted')));
});

test('deliveries run concurrently but never more than maxInFlight at once', async () => {
  const fn = await recorder();
  let active = 0;
  let peak = 0;
  fn.answer = () => {
    peak = Math.max(peak, ++active);
    setTimeout(() => active--, 100);
    return { status: 200, delayMs: 100 };
  };
  const log: string[] = [];
  const b = await startBridge({
    kubeconfig: '',
    manifests: [yamlDocs(trigger(NS, 'fn', { subscriber: serviceRef('fn') }))],
    subscribers: { fn: fn.url },
    log: (l) => log.push(l),
    maxInFlight: 4,
  });
  cleanups.push(() => b.stop());
  const started = Date.now();
  await Promise.all(Array.from({ length: 20 }, () => post(b.ingressUrl, 't.burst')));
  await b.idle();
  assert.is(fn.requests.length, 20);
  assert.ok(peak > 1 && peak <= 4, `peak concurrency ${peak}`);
  assert.ok(Date.now() - started >= 450, 'twenty 100 ms deliveries four at a time take at least 500 ms');
});

test('PingSource ticks reach the Trigger that matches its source', async () => {
  const resync = await recorder();
  const ping = {
    apiVersion: 'sources.knative.dev/v1',
    kind: 'PingSource',
    metadata: { name: 'resync', namespace: NS },
    spec: {
      schedule: '*/2 * * * *',
      contentType: 'application/json',
      data: '{"reason":"periodic resync"}',
      sink: { ref: { apiVersion: 'eventing.knative.dev/v1', kind: 'Broker', name: 'default' } },
    },
  };
  const { b } = await bridge(
    [
      broker(NS),
      ping,
      trigger(NS, 'resync', {
        filters: [{ exact: { type: 'dev.knative.sources.ping' } }, { exact: { source: `/apis/v1/namespaces/${NS}/pingsources/resync` } }],
        subscriber: serviceRef('resync'),
      }),
    ],
    { resync: resync.url },
    { pingIntervalMs: 100 },
  );
  await resync.waitFor('two ticks', () => resync.requests.length >= 2, 5_000);
  const tick = resync.requests[0]!;
  assert.is(tick.headers['content-type'], 'application/json');
  assert.equal(tick.json(), { reason: 'periodic resync' });
  await b.stop();
  const n = resync.requests.length;
  await sleep(300);
  assert.is(resync.requests.length, n, 'no ticks after stop');
});

test('manifests a cluster would refuse, or that name unknown Services, stop the bridge at start', async () => {
  const twoKeys = trigger(NS, 'two-keys', { filters: [{ exact: { type: 'a', kind: 'b' } }], subscriber: serviceRef('fn') });
  const err = await startBridge({
    kubeconfig: '',
    manifests: [yamlDocs(twoKeys, trigger(NS, 'lost', { subscriber: serviceRef('missing') }))],
    subscribers: { fn: 'http://127.0.0.1:9/' },
    log: () => {},
  }).catch((e) => e);
  assert.instance(err, ManifestError);
  const problems = (err as ManifestError).problems.join('\n');
  assert.match(problems, /two-keys: spec\.filters\[0\]\.exact: multiple items found/);
  assert.match(problems, /lost: spec\.subscriber: Knative Service "missing" has no local URL/);
  const lenient = await startBridge({
    kubeconfig: '',
    manifests: [yamlDocs(twoKeys)],
    subscribers: { fn: 'http://127.0.0.1:9/' },
    log: () => {},
    strictAdmission: false,
  });
  await lenient.stop();
});

test.run();
