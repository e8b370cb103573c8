/**
 * Outgoing follow-up events: types, data schemas and the builder. Listed in docs/EVENTS.md.
 * Every event: subject `<namespace>/<name>` of the Machine, extensions carrying its identity,
 * `traceparent` carried over from the event that caused it.
 */
import { z } from 'zod';
import { CloudEvent } from 'cloudevents';

export const FOLLOWUP_PREFIX = 'dev.kubevirt-machine-functions.';

export const FollowUpType = {
  provisioning: `${FOLLOWUP_PREFIX}machine.provisioning`,
  failed: `${FOLLOWUP_PREFIX}machine.failed`,
  deleted: `${FOLLOWUP_PREFIX}machine.deleted`,
  imageImported: `${FOLLOWUP_PREFIX}machine.image.imported`,
  imageFailed: `${FOLLOWUP_PREFIX}machine.image.failed`,
  ready: `${FOLLOWUP_PREFIX}machine.ready`,
  orphanDeleted: `${FOLLOWUP_PREFIX}machine.orphan.deleted`,
} as const;
export type FollowUpType = (typeof FollowUpType)[keyof typeof FollowUpType];

const MachineRef = z.object({ namespace: z.string(), name: z.string(), uid: z.string() });
const ObjectRef = z.object({ namespace: z.string(), name: z.string() });

/** Data schema per follow-up type. Secrets never appear here. */
export const FollowUpData = {
  [FollowUpType.provisioning]: z.object({
    machine: MachineRef,
    virtualMachine: ObjectRef.extend({ uid: z.string().optional() }),
    dataVolumes: z.array(z.string()),
    image: z.object({ kind: z.enum(['http', 'registry', 'pvc']), reference: z.string() }),
    deprecations: z.array(z.string()),
  }),
  [FollowUpType.failed]: z.object({
    machine: MachineRef,
    reason: z.string(),
    message: z.string(),
  }),
  [FollowUpType.deleted]: z.object({ machine: MachineRef }),
  [FollowUpType.imageImported]: z.object({
    machine: MachineRef,
    dataVolume: ObjectRef,
    durationSeconds: z.number().nonnegative().optional(),
  }),
  [FollowUpType.imageFailed]: z.object({
    machine: MachineRef,
    dataVolume: ObjectRef,
    reason: z.string(),
    message: z.string(),
    restartCount: z.number().int().nonnegative(),
  }),
  [FollowUpType.ready]: z.object({
    machine: MachineRef,
    providerID: z.string(),
    addresses: z.array(z.object({ type: z.string(), address: z.string() })),
  }),
  [FollowUpType.orphanDeleted]: z.object({
    machine: MachineRef,
    object: z.object({ apiVersion: z.string(), kind: z.string(), namespace: z.string(), name: z.string(), uid: z.string() }),
  }),
} satisfies Record<FollowUpType, z.ZodType>;

export type FollowUpDataOf<T extends FollowUpType> = z.infer<(typeof FollowUpData)[T]>;

/** Source attribute of our events: which function emitted it. */
export const followUpSource = (fn: string): string => `/kubevirt-machine-functions/${fn}`;

export interface FollowUpContext {
  function: string;
  traceparent?: string;
  /** K_CE_OVERRIDES extensions, applied last. */
  overrides?: Record<string, string>;
}

/** Builds a validated follow-up CloudEvent. Throws if the data does not match its schema. */
export function buildFollowUp<T extends FollowUpType>(type: T, data: FollowUpDataOf<T>, ctx: FollowUpContext): CloudEvent<FollowUpDataOf<T>> {
  const parsed = (FollowUpData[type] as z.ZodType).parse(data) as FollowUpDataOf<T>;
  const m = parsed.machine;
  return new CloudEvent<FollowUpDataOf<T>>({
    type,
    source: followUpSource(ctx.function),
    subject: `${m.namespace}/${m.name}`,
    datacontenttype: 'application/json',
    data: parsed,
    machineuid: m.uid,
    machinenamespace: m.namespace,
    machinename: m.name,
    ...(ctx.traceparent ? { traceparent: ctx.traceparent } : {}),
    ...(ctx.overrides ?? {}),
  });
}
