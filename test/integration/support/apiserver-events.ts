/**
 * ApiServerSource CloudEvents for Machines, built from the recorded shapes in
 * ../shared/fixtures/knative-events (Widget → Machine), in binary or structured mode.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURE_DIR = path.resolve(root, '..', 'shared', 'fixtures', 'knative-events');

export interface EventFixture {
  file: string;
  mode: 'Resource' | 'Reference';
  operation: 'add' | 'update' | 'delete';
  headers: Record<string, string>;
  structured: boolean;
}

/** Every `.json` fixture, in both content modes. */
export function eventFixtures(): EventFixture[] {
  const out: EventFixture[] = [];
  for (const f of readdirSync(FIXTURE_DIR).filter((n) => n.endsWith('.json')).sort()) {
    const j = JSON.parse(readFileSync(path.join(FIXTURE_DIR, f), 'utf8'));
    out.push({ file: f, mode: j.mode, operation: j.operation, headers: j.headers, structured: false });
    if (j.equivalent_structured_mode) out.push({ file: f, mode: j.mode, operation: j.operation, headers: j.headers, structured: true });
  }
  return out;
}

interface MachineLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
}

/** The HTTP request the adapter (or Broker) would send for `machine`, shaped like `fx`. */
export function machineEvent(fx: Pick<EventFixture, 'mode' | 'operation' | 'headers' | 'structured'>, machine: MachineLike, traceparent?: string): { headers: Record<string, string>; body: string } {
  const { name, namespace } = machine.metadata;
  const type = `dev.knative.apiserver.${fx.mode === 'Resource' ? 'resource' : 'ref'}.${fx.operation}`;
  const data = fx.mode === 'Resource' ? machine : { kind: 'Machine', namespace, name, apiVersion: 'cluster.k8s.io/v1alpha1' };
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
  return machineEvent({ mode: 'Resource', operation: op, structured: false, headers: { 'Content-Type': 'application/json', 'Ce-Specversion': '1.0', 'Ce-Source': 'https://10.96.0.1:443' } }, machine, traceparent);
}
