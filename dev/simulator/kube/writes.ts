/**
 * Writes the simulated controllers make, with the same error handling everywhere:
 * - JSON patches that begin with `test /metadata/uid`: an object replaced by another with the
 *   same name (new uid) refuses the write (422) instead of receiving a stale status. A uid in a
 *   merge patch would not do: the /status subresource silently ignores metadata in patches;
 * - transient failures (network, 429, 5xx) retried with backoff until the simulator stops;
 * - the answer fed back into the cache at once (see Informer.ingest).
 */
import { sleep, type Lifetime } from '../lifetime.js';
import type { StatsRecorder } from '../stats.js';
import { isNotFound, isTransient, statusOf, type KubeApi } from './api.js';
import type { Informer } from './informer.js';

/** The object was deleted, or replaced by another one with the same name. */
export class GoneError extends Error {}

export interface Writer {
  api: KubeApi;
  life: Lifetime;
  stats: StatsRecorder;
}

export interface JsonPatchOp {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

const JSON_PATCH = 'application/json-patch+json';

/** `/metadata/labels/kubevirt.io~1nodeName`: RFC 6901 escaping of one path segment. */
export const pointerSegment = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Drops null/undefined members: what a controller's omitempty fields look like on the wire. */
export function withoutNulls<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = x;
        return out;
      }
      return v;
    }),
  ) as T;
}

/** JSON-patches `path` (an object or its /status) under a uid test; returns the new object. */
export async function patchObject(
  w: Writer,
  informer: Informer,
  path: string,
  uid: string,
  ops: JsonPatchOp[],
  fieldManager: string,
): Promise<any> {
  let delay = 100;
  for (;;) {
    try {
      const updated = await w.api.request('PATCH', path, {
        body: [{ op: 'test', path: '/metadata/uid', value: uid }, ...ops],
        contentType: JSON_PATCH,
        query: { fieldManager },
      });
      informer.ingest('MODIFIED', updated);
      return updated;
    } catch (e) {
      const s = statusOf(e);
      // 422: the uid test failed (or the object changed shape under us): not ours any more.
      if (isNotFound(e) || s === 409 || s === 422) throw new GoneError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      if (!isTransient(e) || w.life.stopped) throw e;
      await sleep(delay, w.life.signal);
      delay = Math.min(delay * 2, 2_000);
    }
  }
}

/** POST; an existing object (409) is not an error: the caller sees it through the cache. */
export async function createObject(
  w: Writer,
  informer: Informer,
  collection: string,
  body: unknown,
  fieldManager: string,
): Promise<any | undefined> {
  try {
    const created = await w.api.request('POST', collection, { body, query: { fieldManager } });
    informer.ingest('ADDED', created);
    return created;
  } catch (e) {
    if (statusOf(e) === 409) return undefined;
    throw e;
  }
}

/** DELETE with a uid precondition, background propagation; gone already is success. */
export async function deleteObject(w: Writer, path: string, uid: string): Promise<boolean> {
  try {
    await w.api.request('DELETE', path, {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid } },
    });
    w.stats.inc('objectsDeleted');
    return true;
  } catch (e) {
    if (isNotFound(e) || statusOf(e) === 409) return false;
    throw e;
  }
}
