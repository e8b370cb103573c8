/**
 * ApiServerSource CloudEvents for Machines, as Knative Eventing's receive adapter
 * (knative.dev/eventing v0.49.2, pkg/adapter/apiserver, cloudevents sdk-go binary mode)
 * delivers them straight to a sink or through a Broker + Trigger, in binary or structured
 * content mode.
 *
 * The wire shapes are written out here, not read from recordings beside the repo: header
 * names (Go-canonicalised by the adapter, lower-cased by Node) and the Reference-mode body's
 * key order are the adapter's; a Broker adds `Ce-Knativearrivaltime` and `Prefer: reply`.
 */
import { randomUUID } from 'node:crypto';

export type Delivery = 'direct' | 'via-broker';

export interface EventFixture {
  file: string;
  mode: 'Resource' | 'Reference';
  operation: 'add' | 'update' | 'delete';
  headers: Record<string, string>;
  structured: boolean;
}

/** Headers of a binary-mode request from the adapter, in its order (no Traceparent unless tracing is on). */
const ADAPTER_HEADERS: Record<string, string> = {
  'Content-Type': 'application/json',
  'Ce-Specversion': '1.0',
  'Ce-Source': 'https://10.96.0.1:443',
  'User-Agent': 'Go-http-client/1.1',
  'Accept-Encoding': 'gzip',
};

/** What an MTChannelBasedBroker's Trigger adds on the way to the subscriber. */
const BROKER_HEADERS: Record<string, string> = {
  'Ce-Knativearrivaltime': '2026-08-01T10:15:30.205214269Z',
  Prefer: 'reply',
};

/** Header names a subscriber behind a Broker receives for a Resource-mode event (transport noise excluded). */
export const BROKER_DELIVERY_HEADERS = [
  'content-type',
  'ce-specversion',
  'ce-id',
  'ce-source',
  'ce-type',
  'ce-subject',
  'ce-time',
  'ce-apiversion',
  'ce-kind',
  'ce-name',
  'ce-namespace',
  'kn-namespace',
  'ce-knativearrivaltime',
  'prefer',
];

/** The adapter's Reference-mode body, in its key order. */
export function referenceBody(kind: string, namespace: string, name: string, apiVersion: string): Record<string, string> {
  return { kind, namespace, name, apiVersion };
}

/** Every delivery shape a function may receive: each mode and operation, direct and via a Broker, binary and structured. */
export function eventFixtures(): EventFixture[] {
  const shapes: [EventFixture['mode'], EventFixture['operation']][] = [
    ['Reference', 'add'],
    ['Resource', 'add'],
    ['Resource', 'update'],
    ['Resource', 'delete'],
  ];
  const out: EventFixture[] = [];
  for (const [mode, operation] of shapes) {
    const deliveries: Delivery[] = mode === 'Resource' ? ['direct', 'via-broker'] : ['direct'];
    for (const delivery of deliveries) {
      const headers = delivery === 'direct' ? { ...ADAPTER_HEADERS } : { ...ADAPTER_HEADERS, ...BROKER_HEADERS };
      const file = `${mode.toLowerCase()}-${operation}${delivery === 'via-broker' ? '-via-broker' : ''}`;
      for (const structured of [false, true]) out.push({ file, mode, operation, headers, structured });
    }
  }
  return out;
}

interface MachineLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
}

/** The HTTP request the adapter (or Broker) would send for `machine`, shaped like `fx`. */
export function machineEvent(
  fx: Pick<EventFixture, 'mode' | 'operation' | 'headers' | 'structured'>,
  machine: MachineLike,
  traceparent?: string,
): { headers: Record<string, string>; body: string } {
  const { name, namespace } = machine.metadata;
  const type = `dev.knative.apiserver.${fx.mode === 'Resource' ? 'resource' : 'ref'}.${fx.operation}`;
  const data = fx.mode === 'Resource' ? machine : referenceBody('Machine', namespace, name, 'cluster.k8s.io/v1alpha1');
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(fx.headers)) {
    const lk = k.toLowerCase();
    if (lk === 'content-length' || lk === 'host') continue;
    attrs[lk] = v;
  }
  Object.assign(attrs, {
    'ce-id': randomUUID(),
    'ce-type': type,
    'ce-subject': `/apis/cluster.k8s.io/v1alpha1/namespaces/${namespace}/machines/${name}`,
    'ce-apiversion': 'cluster.k8s.io/v1alpha1',
    'ce-kind': 'Machine',
    'ce-name': name,
    'ce-namespace': namespace,
    'ce-time': new Date().toISOString(),
    'kn-namespace': namespace,
  });
  if (traceparent) attrs.traceparent = traceparent;
  if (!fx.structured) return { headers: attrs, body: JSON.stringify(data) };
  const ce: Record<string, unknown> = { datacontenttype: 'application/json', data };
  const headers: Record<string, string> = { 'content-type': 'application/cloudevents+json' };
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('ce-')) ce[k.slice(3)] = v;
    else if (k === 'traceparent') ce.traceparent = v;
    else if (k !== 'content-type') headers[k] = v;
  }
  return { headers, body: JSON.stringify(ce) };
}

/** Posts an event; returns the HTTP status. */
export async function post(url: string, ev: { headers: Record<string, string>; body: string }): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: ev.headers, body: ev.body });
  await res.arrayBuffer();
  return res.status;
}

/** The common case: a binary Resource-mode event straight from the source. */
export function resourceEvent(op: 'add' | 'update' | 'delete', machine: MachineLike, traceparent?: string) {
  return machineEvent({ mode: 'Resource', operation: op, structured: false, headers: ADAPTER_HEADERS }, machine, traceparent);
}
