/**
 * emitOnce's ordering of follow-ups with a predecessor, against an in-memory Machine store that
 * applies merge patches and resourceVersion preconditions as the API server does: a successor
 * that had to wait goes only once its predecessor's send is confirmed, never while it is in
 * flight; in the usual order nothing more is written.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CloudEvent } from 'cloudevents';
import { emitOnce, IN_FLIGHT_MS } from '../../../shared/machine/emissions.js';
import type { MachineApi } from '../../../shared/machine/api.js';
import type { Machine } from '../../../shared/machine/types.js';
import type { EventSink } from '../../../shared/runtime/sink.js';
import { ApiError } from '../../../shared/kube/rest.js';

const P = 'example.predecessor';
const S = 'example.successor';

/** RFC 7386 merge patch. */
function merge(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

/** One Machine, patched as the API server patches it; counts writes. */
function store() {
  let rv = 1;
  let cur: Machine = { metadata: { name: 'm', namespace: 'ns', uid: 'u', resourceVersion: '1' }, status: {} } as Machine;
  const api = {
    writes: 0,
    get: () => cur,
    async patchStatus(_m: Machine, status: Record<string, unknown>, resourceVersion?: string): Promise<Machine> {
      if (resourceVersion && resourceVersion !== cur.metadata.resourceVersion)
        throw new ApiError(409, 'Conflict', 'conflict', 'PATCH', 'machines/m');
      api.writes++;
      cur = merge(cur, { status }) as Machine;
      cur.metadata = { ...cur.metadata, resourceVersion: String(++rv) };
      return cur;
    },
  };
  return api;
}

/** A sink whose sends complete when released (or at once), recording the order they complete in. */
function sink(opts: { hold?: boolean } = {}) {
  const received: string[] = [];
  const pending: (() => void)[] = [];
  const s: EventSink & { received: string[]; release: () => void } = {
    received,
    send: (ev: CloudEvent<unknown>) =>
      new Promise<void>((resolve) => {
        const done = () => {
          received.push(ev.type);
          resolve();
        };
        if (opts.hold) pending.push(done);
        else done();
      }),
    release: () => pending.splice(0).forEach((f) => f()),
  };
  return s;
}

const event = (type: string) => () => ({ type }) as CloudEvent<unknown>;
const emission = (type: string, after?: string) => ({ type, key: 'k', event: event(type), ...(after ? { after } : {}) });

test('the usual order: predecessor sent, then the successor; one write each, nothing confirmed', async () => {
  const api = store();
  const out = sink();
  await emitOnce(api as unknown as MachineApi, out, api.get(), emission(P));
  const r = await emitOnce(api as unknown as MachineApi, out, api.get(), emission(S, P));
  assert.ok(r.sent);
  assert.equal(out.received, [P, S]);
  assert.is(api.writes, 2, 'two claims');
  assert.is(api.get().status?.providerStatus?.emitted?.[P]?.sentAt, undefined);
});

test('a successor that waited goes only once the predecessor`s send is confirmed, not while it is in flight', async () => {
  const api = store();
  const out = sink({ hold: true });
  const a = api as unknown as MachineApi;
  // The successor first: deferred, and it marks the predecessor awaited.
  const early = await emitOnce(a, out, api.get(), emission(S, P));
  assert.equal([early.sent, early.deferred], [false, true]);
  assert.is(api.get().status?.providerStatus?.emitted?.[P]?.awaited, true);
  // The predecessor is claimed; its send is in flight.
  const sending = emitOnce(a, out, api.get(), emission(P));
  await new Promise((r) => setImmediate(r));
  assert.is(api.get().status?.providerStatus?.emitted?.[P]?.key, 'k', 'claimed');
  const writes = api.writes;
  const during = await emitOnce(a, out, api.get(), emission(S, P));
  assert.equal([during.sent, during.deferred], [false, true], 'claimed is not sent');
  assert.is(api.writes, writes, 'already awaited: nothing written while waiting');
  out.release();
  await sending;
  assert.ok(api.get().status?.providerStatus?.emitted?.[P]?.sentAt, 'the claimant confirmed its send');
  const after = emitOnce(a, out, api.get(), emission(S, P));
  await new Promise((r) => setImmediate(r));
  out.release();
  assert.ok((await after).sent);
  assert.equal(out.received, [P, S]);
});

test('an awaited claim never confirmed (its claimant died) stops holding the successor after IN_FLIGHT_MS', async () => {
  const api = store();
  const old = new Date(Date.now() - IN_FLIGHT_MS - 1_000).toISOString();
  await api.patchStatus(api.get(), { providerStatus: { emitted: { [P]: { key: 'k', at: old, awaited: true } } } });
  const out = sink();
  assert.ok((await emitOnce(api as unknown as MachineApi, out, api.get(), emission(S, P))).sent);
  const young = store();
  await young.patchStatus(young.get(), {
    providerStatus: { emitted: { [P]: { key: 'k', at: new Date().toISOString(), awaited: true } } },
  });
  assert.ok((await emitOnce(young as unknown as MachineApi, sink(), young.get(), emission(S, P))).deferred);
});

test('a failed predecessor holds the successor; its re-claim keeps the awaited mark and confirms', async () => {
  const api = store();
  const a = api as unknown as MachineApi;
  await api.patchStatus(api.get(), {
    providerStatus: {
      emitted: {
        [P]: { key: 'k', at: new Date(Date.now() - 60_000).toISOString(), failedAt: new Date(Date.now() - 10_000).toISOString() },
      },
    },
  });
  assert.ok((await emitOnce(a, sink(), api.get(), emission(S, P))).deferred);
  const out = sink();
  assert.ok((await emitOnce(a, out, api.get(), emission(P))).sent, 'claimed again after the hold, sent');
  const rec = api.get().status?.providerStatus?.emitted?.[P];
  assert.equal([rec?.failedAt, rec?.awaited, Boolean(rec?.sentAt)], [undefined, true, true]);
  assert.ok((await emitOnce(a, out, api.get(), emission(S, P))).sent);
  assert.equal(out.received, [P, S]);
});

test.run();
