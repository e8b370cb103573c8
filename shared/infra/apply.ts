/**
 * Server-side apply that never touches someone else's object.
 *
 * SSA with `force` would happily take over a foreign object of the same name. So the applied
 * body carries `metadata.uid`: on create the API server assigns a fresh UID and ignores ours,
 * but on update a different UID is an immutable-field change and is refused (422). We send
 * the UID of the object we know is ours, or — before we know one — the Machine's UID, which no
 * infra object can have. A refusal means "exists and is not the object we meant": we then read
 * it and decide by its ownership label.
 */
import { ApiError, type KubeClient } from '../kube/rest.js';
import { apiVersionOf, collectionPath, objectPath, type Kind } from '../kube/paths.js';
import { isOwnedBy } from './ownership.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export type ApplyResult<T> = { kind: 'applied'; object: T } | { kind: 'collision'; existing: KubeObject };

/** Applies `body` (ours, labelled with `machineUid`) unless a foreign object holds the name. */
export async function applyOwned<T extends KubeObject>(
  kube: KubeClient,
  k: Kind,
  body: T,
  machineUid: string,
  knownUid?: string,
): Promise<ApplyResult<T>> {
  const ns = body.metadata.namespace!;
  const path = objectPath(k, ns, body.metadata.name);
  const withUid = (uid: string): T => ({ ...body, apiVersion: apiVersionOf(k), kind: k.kind, metadata: { ...body.metadata, uid } });
  try {
    return { kind: 'applied', object: await kube.apply<T>(path, withUid(knownUid ?? machineUid)) };
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 422 && e.status !== 409)) throw e;
  }
  const existing = await kube.get<KubeObject>(path);
  if (!existing) {
    // Deleted between the two calls: create path again (the next event or retry converges).
    return { kind: 'applied', object: await kube.apply<T>(path, withUid(machineUid)) };
  }
  if (!isOwnedBy(existing, machineUid)) return { kind: 'collision', existing };
  return { kind: 'applied', object: await kube.apply<T>(path, withUid(existing.metadata.uid!)) };
}

/** Lists objects by label selector in one namespace. */
export async function listByLabel<T = KubeObject>(kube: KubeClient, k: Kind, namespace: string, labelSelector: string): Promise<T[]> {
  const res = await kube.request<{ items?: T[] }>('GET', collectionPath(k, namespace), { query: { labelSelector } });
  return res.items ?? [];
}
