/**
 * Kubernetes Events for any object (what `kubectl describe` shows), sent without waiting: like
 * client-go's recorder, Events are best-effort diagnostics that must not fail a reconcile.
 */
import { randomBytes } from 'node:crypto';
import type { KubeClient } from './rest.js';
import { EVENT, collectionPath } from './paths.js';

export interface Involved {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export function recordEvent(
  kube: KubeClient,
  obj: Involved,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
  onError: (e: Error) => void = () => {},
): void {
  const ns = obj.metadata.namespace ?? 'default';
  const now = new Date().toISOString();
  kube
    .create(collectionPath(EVENT, ns), {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: ns,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component },
      reportingComponent: component,
      reportingInstance: process.env.HOSTNAME ?? component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    })
    .catch(onError);
}
