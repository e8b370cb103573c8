/**
 * Outgoing follow-up events: their types and data schemas (listed in docs/EVENTS.md). Apart from
 * the builder in followup.ts because this module does not import the cloudevents SDK (whose
 * index loads node:http), so the functions' startup snapshot can hold these schemas ready-made.
 */
import * as z from 'zod';

export const FOLLOWUP_PREFIX = 'dev.kubevirt-machine-functions.';

export const FollowUpType = {
  provisioning: `${FOLLOWUP_PREFIX}machine.provisioning`,
  failed: `${FOLLOWUP_PREFIX}machine.failed`,
  deleted: `${FOLLOWUP_PREFIX}machine.deleted`,
  imageImported: `${FOLLOWUP_PREFIX}machine.image.imported`,
  imageFailed: `${FOLLOWUP_PREFIX}machine.image.failed`,
  imageCached: `${FOLLOWUP_PREFIX}machine.image.cached`,
  imageEvicted: `${FOLLOWUP_PREFIX}machine.image.evicted`,
  ready: `${FOLLOWUP_PREFIX}machine.ready`,
  orphanDeleted: `${FOLLOWUP_PREFIX}machine.orphan.deleted`,
  nodeJoined: `${FOLLOWUP_PREFIX}machine.node.joined`,
  nodeLost: `${FOLLOWUP_PREFIX}machine.node.lost`,
} as const;
export type FollowUpType = (typeof FollowUpType)[keyof typeof FollowUpType];

const MachineRef = z.object({ namespace: z.string(), name: z.string(), uid: z.string() });
const ObjectRef = z.object({ namespace: z.string(), name: z.string() });
const NodeRef = z.object({ name: z.string(), uid: z.string() });
/** A golden image DataVolume: it belongs to no Machine, so its events name it instead. */
const GoldenRef = z.object({ namespace: z.string(), name: z.string(), uid: z.string() });

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
  /** A golden image DataVolume reached Succeeded: its clones copy from it from now on (once per golden). */
  [FollowUpType.imageCached]: z.object({
    golden: GoldenRef,
    /** The image URL without user info or query. */
    source: z.string(),
    content: z.record(z.string(), z.union([z.string(), z.number()])),
  }),
  /** The resync deleted a golden image DataVolume no disk had needed for IMAGE_CACHE_RETENTION. */
  [FollowUpType.imageEvicted]: z.object({
    golden: GoldenRef,
    source: z.string(),
    lastNeeded: z.string(),
    idleSeconds: z.number().nonnegative(),
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
  /** The Machine's Node became Ready (each Ready transition of the linked Node, once). */
  [FollowUpType.nodeJoined]: z.object({
    machine: MachineRef,
    node: NodeRef,
    kubeletVersion: z.string().optional(),
  }),
  /** The Machine's Node, Ready before, went NotReady/Unknown or was deleted (once per loss). */
  [FollowUpType.nodeLost]: z.object({
    machine: MachineRef,
    node: NodeRef,
    reason: z.enum(['NotReady', 'Unknown', 'Deleted']),
    message: z.string().optional(),
  }),
} satisfies Record<FollowUpType, z.ZodType>;

export type FollowUpDataOf<T extends FollowUpType> = z.infer<(typeof FollowUpData)[T]>;
