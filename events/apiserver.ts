/**
 * Incoming events: Knative ApiServerSource CloudEvents (Resource and Reference mode), as the
 * adapter sends them directly or through a Broker. Parsing yields a key; handlers re-read state.
 */
import * as z from 'zod';
import type { CloudEventV1 } from 'cloudevents';

export const APISERVER_TYPE_PREFIX = 'dev.knative.apiserver.';
export const ApiServerEventType = {
  resourceAdd: 'dev.knative.apiserver.resource.add',
  resourceUpdate: 'dev.knative.apiserver.resource.update',
  resourceDelete: 'dev.knative.apiserver.resource.delete',
  refAdd: 'dev.knative.apiserver.ref.add',
  refUpdate: 'dev.knative.apiserver.ref.update',
  refDelete: 'dev.knative.apiserver.ref.delete',
} as const;
const TYPE_RE = /^dev\.knative\.apiserver\.(resource|ref)\.(add|update|delete)$/;

const dnsName = z.string().min(1).max(253);

/** The cluster-scoped kinds a function consumes (`apiVersion/kind`); every other kind needs a namespace. */
const CLUSTER_SCOPED = new Set(['v1/Node']);

/** Resource mode: the whole object. Only what we key on is required; the rest passes through. */
export const ResourceObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: dnsName,
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
    deletionTimestamp: z.string().optional(),
    finalizers: z.array(z.string()).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});
export type ResourceObject = z.infer<typeof ResourceObjectSchema>;

/** Reference mode: a corev1.ObjectReference with kind, namespace, name, apiVersion. */
export const ReferenceSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: dnsName,
  namespace: z.string().optional(),
});

export interface ApiServerEvent {
  mode: 'resource' | 'ref';
  operation: 'add' | 'update' | 'delete';
  apiVersion: string;
  kind: string;
  /** '' for a cluster-scoped kind (a Node). */
  namespace: string;
  name: string;
  /** Resource mode only. */
  object?: ResourceObject;
  id: string;
  traceparent?: string;
}

/** A CloudEvent we cannot act on: answered 400, never retried. */
export class MalformedEventError extends Error {}

/** An event's data as JSON: structured mode gives an object, binary mode may give the text. */
export function jsonDataOf(ce: CloudEventV1<unknown>): unknown {
  if (typeof ce.data !== 'string') return ce.data;
  try {
    return JSON.parse(ce.data);
  } catch {
    throw new MalformedEventError('event data is not JSON');
  }
}

/**
 * Validates an ApiServerSource CloudEvent and returns its key (and the object in Resource mode).
 * `expectKind` guards against a mis-routed Trigger.
 */
export function parseApiServerEvent(ce: CloudEventV1<unknown>, expectKind?: { apiVersion: string; kind: string }): ApiServerEvent {
  const m = TYPE_RE.exec(ce.type ?? '');
  if (!m) throw new MalformedEventError(`unsupported event type ${JSON.stringify(ce.type)}`);
  const mode = m[1] as 'resource' | 'ref';
  const operation = m[2] as 'add' | 'update' | 'delete';
  const data = jsonDataOf(ce);
  let apiVersion: string, kind: string, namespace: string | undefined, name: string, object: ResourceObject | undefined;
  if (mode === 'resource') {
    const r = ResourceObjectSchema.safeParse(data);
    if (!r.success) throw new MalformedEventError(`event data is not a Kubernetes object: ${z.prettifyError(r.error)}`);
    object = r.data;
    ({ apiVersion, kind } = r.data);
    ({ namespace, name } = r.data.metadata);
  } else {
    const r = ReferenceSchema.safeParse(data);
    if (!r.success) throw new MalformedEventError(`event data is not an object reference: ${z.prettifyError(r.error)}`);
    ({ apiVersion, kind, namespace, name } = r.data);
  }
  // Cluster-scoped kinds carry no namespace (the adapter sends ""): their key is the name alone.
  if (!namespace && !CLUSTER_SCOPED.has(`${apiVersion}/${kind}`)) throw new MalformedEventError(`${kind} ${name} has no namespace`);
  if (namespace && CLUSTER_SCOPED.has(`${apiVersion}/${kind}`))
    throw new MalformedEventError(`${kind} ${name} is cluster-scoped, got namespace ${namespace}`);
  if (expectKind && (apiVersion !== expectKind.apiVersion || kind !== expectKind.kind)) {
    throw new MalformedEventError(`expected ${expectKind.apiVersion} ${expectKind.kind}, got ${apiVersion} ${kind}`);
  }
  const traceparent = typeof ce.traceparent === 'string' ? ce.traceparent : undefined;
  return { mode, operation, apiVersion, kind, namespace: namespace ?? '', name, object, id: ce.id, traceparent };
}
