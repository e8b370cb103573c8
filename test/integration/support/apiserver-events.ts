/**
 * ApiServerSource CloudEvents as Knative Eventing's receive adapter (knative.dev/eventing
 * v0.49.2, pkg/adapter/apiserver, cloudevents sdk-go binary mode) delivers them straight to a
 * sink, or as a subscriber receives them through a Broker + Trigger, in binary or structured
 * content mode — for the functions' event tests.
 *
 * Written out in code, and checked against the real adapter: test/integration/bridge/
 * adapter-wire.test.ts runs the adapter against the test control plane and asserts that what it
 * sends equals what `adapterRequest` builds here (header names and their order, Ce-Source,
 * Ce-Subject, Kn-Namespace, the body byte for byte in both modes).
 */
import { randomUUID } from 'node:crypto';
import { guessPlural } from '../../../dev/bridge/apiserver-adapter.js';
import { rfc3339Nano } from '../../../dev/bridge/cloudevent.js';

export type Delivery = 'direct' | 'via-broker';
export type Mode = 'Resource' | 'Reference';
export type Operation = 'add' | 'update' | 'delete';

/** The adapter's `source`: its rest.Config.Host, the API server URL (in a cluster, the kubernetes Service). */
export const IN_CLUSTER_SOURCE = 'https://10.96.0.1:443';
/** Where knative/'s ApiServerSources live: the adapter's NAMESPACE, sent as Kn-Namespace. */
export const SOURCES_NAMESPACE = 'kubevirt-machine-functions';

export interface EventFixture {
  file: string;
  mode: Mode;
  operation: Operation;
  delivery: Delivery;
  structured: boolean;
}

/** What an MTChannelBasedBroker's Trigger adds on the way to the subscriber. */
const BROKER_HEADERS: Record<string, string> = {
  'ce-knativearrivaltime': '2026-08-01T10:15:30.205214269Z',
  prefer: 'reply',
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

/** The adapter's Reference-mode body: a corev1.ObjectReference, in its JSON field order. */
export function referenceBody(kind: string, namespace: string, name: string, apiVersion: string): Record<string, string> {
  return { kind, namespace, name, apiVersion };
}

/**
 * JSON as Go's encoding/json writes an unstructured object (map[string]interface{}): object
 * keys sorted at every level, and `<`, `>`, `&`, U+2028 and U+2029 escaped (HTML-safe).
 * The adapter re-encodes every object this way, so its body is not the API server's bytes.
 */
export function goJson(v: unknown): string {
  const sorted = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sorted);
    if (x && typeof x === 'object') {
      return Object.fromEntries(
        Object.keys(x)
          .sort()
          .map((k) => [k, sorted((x as Record<string, unknown>)[k])]),
      );
    }
    return x;
  };
  const escapes: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };
  return JSON.stringify(sorted(v)).replace(/[<>&\u2028\u2029]/g, (c) => escapes[c]!);
}

/** The adapter's `createSelfLink` subject: `/apis/<apiVersion>/namespaces/<ns>/<guessed plural>/<name>`. */
export function adapterSubject(apiVersion: string, kind: string, namespace: string, name: string): string {
  const version = apiVersion.includes('.') && !apiVersion.includes('/') ? `${apiVersion}/versionUnknown` : apiVersion;
  return `/apis/${version}/namespaces/${namespace}/${guessPlural(kind)}/${name}`;
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export interface AdapterRequestOptions {
  mode: Mode;
  operation: Operation;
  /** The object as the watch delivered it (Resource mode sends it whole). */
  object: KubeObject;
  /** The adapter's API server URL; default IN_CLUSTER_SOURCE. */
  source?: string;
  /** The ApiServerSource's namespace (Kn-Namespace); default SOURCES_NAMESPACE. */
  sourceNamespace?: string;
  /** spec.ceOverrides.extensions. */
  extensions?: Record<string, string>;
  id?: string;
  time?: string;
}

/**
 * The adapter's HTTP request for one watch event: `POST /`, headers in the order it writes them
 * (the transport's User-Agent first, then Go's `Header.Write` order — sorted by name — and
 * Accept-Encoding last; Host and Content-Length, which any client adds, left out), and the body.
 * No Traceparent (tracing is off by default).
 */
export function adapterRequest(o: AdapterRequestOptions): { headers: [string, string][]; body: string } {
  const { apiVersion, kind } = o.object;
  const { name, namespace = '' } = o.object.metadata;
  const sorted: [string, string][] = [
    ['Ce-Apiversion', apiVersion],
    ['Ce-Id', o.id ?? randomUUID()],
    ['Ce-Kind', kind],
    ['Ce-Name', name],
    ['Ce-Namespace', namespace],
    ['Ce-Source', o.source ?? IN_CLUSTER_SOURCE],
    ['Ce-Specversion', '1.0'],
    ['Ce-Subject', adapterSubject(apiVersion, kind, namespace, name)],
    ['Ce-Time', o.time ?? rfc3339Nano()],
    ['Ce-Type', `dev.knative.apiserver.${o.mode === 'Resource' ? 'resource' : 'ref'}.${o.operation}`],
    ['Content-Type', 'application/json'],
    ['Kn-Namespace', o.sourceNamespace ?? SOURCES_NAMESPACE],
  ];
  for (const [ext, value] of Object.entries(o.extensions ?? {})) {
    sorted.push([`Ce-${ext.charAt(0).toUpperCase()}${ext.slice(1)}`, value]);
  }
  sorted.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = o.mode === 'Resource' ? goJson(o.object) : JSON.stringify(referenceBody(kind, namespace, name, apiVersion));
  return { headers: [['User-Agent', 'Go-http-client/1.1'], ...sorted, ['Accept-Encoding', 'gzip']], body };
}

/** Every delivery shape a function may receive: each mode and operation, direct and via a Broker, binary and structured. */
export function eventFixtures(): EventFixture[] {
  const shapes: [Mode, Operation][] = [
    ['Reference', 'add'],
    ['Resource', 'add'],
    ['Resource', 'update'],
    ['Resource', 'delete'],
  ];
  const out: EventFixture[] = [];
  for (const [mode, operation] of shapes) {
    const deliveries: Delivery[] = mode === 'Resource' ? ['direct', 'via-broker'] : ['direct'];
    for (const delivery of deliveries) {
      const file = `${mode.toLowerCase()}-${operation}${delivery === 'via-broker' ? '-via-broker' : ''}`;
      for (const structured of [false, true]) out.push({ file, mode, operation, delivery, structured });
    }
  }
  return out;
}

/** The HTTP request the adapter (or a Broker behind it) sends for `object`, shaped like `fx`; Node-style lower-case headers. */
export function apiServerEvent(
  fx: Pick<EventFixture, 'mode' | 'operation' | 'structured'> & { delivery?: Delivery },
  object: KubeObject,
  traceparent?: string,
): { headers: Record<string, string>; body: string } {
  const req = adapterRequest({ mode: fx.mode, operation: fx.operation, object });
  const attrs: Record<string, string> = Object.fromEntries(req.headers.map(([k, v]) => [k.toLowerCase(), v]));
  if (fx.delivery === 'via-broker') Object.assign(attrs, BROKER_HEADERS);
  if (traceparent) attrs.traceparent = traceparent;
  if (!fx.structured) return { headers: attrs, body: req.body };
  const ce: Record<string, unknown> = { datacontenttype: 'application/json', data: JSON.parse(req.body) };
  const headers: Record<string, string> = { 'content-type': 'application/cloudevents+json' };
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('ce-')) ce[k.slice(3)] = v;
    else if (k === 'traceparent') ce.traceparent = v;
    else if (k !== 'content-type') headers[k] = v;
  }
  return { headers, body: JSON.stringify(ce) };
}

/** A Machine's event shaped like `fx` (see apiServerEvent); apiVersion and kind default to a Machine's. */
export function machineEvent(
  fx: Pick<EventFixture, 'mode' | 'operation' | 'structured'> & { delivery?: Delivery },
  machine: Omit<KubeObject, 'apiVersion' | 'kind'> & Partial<KubeObject>,
  traceparent?: string,
): { headers: Record<string, string>; body: string } {
  return apiServerEvent(fx, { apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine', ...machine }, traceparent);
}

/** Posts an event; returns the HTTP status. */
export async function post(url: string, ev: { headers: Record<string, string>; body: string }): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: ev.headers, body: ev.body });
  await res.arrayBuffer();
  return res.status;
}

/** The common case: a binary Resource-mode event straight from the source. */
export function resourceEvent(op: Operation, machine: Omit<KubeObject, 'apiVersion' | 'kind'> & Partial<KubeObject>, traceparent?: string) {
  return machineEvent({ mode: 'Resource', operation: op, structured: false }, machine, traceparent);
}
