/**
 * Resolves and validates a decoded nested cloudProviderSpec into the model, following
 * machine-controller's `getConfig` then `Validate` (reference §1.3, §2) and keeping its error
 * wording. Every rule reports into the SpecReport and carries on.
 */
import {
  type RuleContext,
  checkDnsNone,
  checkDnsPolicy,
  parseResources,
  resolveBoolField,
  resolveField,
  resolveIdentity,
  resolveKubeconfig,
  toDnsConfig,
} from './field-rules.js';
import { joinPath } from './issues.js';
import { resolvePrimaryDisk, resolveSecondaryDisks } from './nested-disks.js';
import type { NestedSpec } from './provider-spec.js';
import type { MachineConfig, MatcherSpec, NodeAffinityPreset, TopologySpreadConstraintSpec, VirtualMachineSpecModel } from './types.js';

/** The part of MachineConfig that comes from cloudProviderSpec. */
export type ProviderPart = Pick<MachineConfig, 'clusterName' | 'projectID' | 'kubeconfig' | 'namespace' | 'vm'>;

const ROOT = 'cloudProviderSpec';
const SINCE = 'machine-controller';

type VirtualMachine = NonNullable<NestedSpec['virtualMachine']>;
type Matcher = NonNullable<VirtualMachine['instancetype']>;

/** Instancetype/preference matchers pass through; only members that are set are kept. */
function toMatcher(ctx: RuleContext, m: Matcher | undefined, path: string): MatcherSpec | undefined {
  if (!m) return undefined;
  if (!m.name && !m.inferFromVolume) {
    ctx.report.fail(path, m, 'a name (or inferFromVolume) is required');
  }
  return {
    name: m.name ?? '',
    ...(m.kind && { kind: m.kind }),
    ...(m.revisionName && { revisionName: m.revisionName }),
    ...(m.inferFromVolume && { inferFromVolume: m.inferFromVolume }),
    ...(m.inferFromVolumeFailurePolicy && { inferFromVolumeFailurePolicy: m.inferFromVolumeFailurePolicy }),
  };
}

/** `affinity.nodeAffinityPreset` (`parseNodeAffinityPreset`). '' type → no affinity. */
async function resolveNodeAffinity(ctx: RuleContext, spec: NestedSpec['affinity']): Promise<NodeAffinityPreset | undefined> {
  const preset = spec?.nodeAffinityPreset;
  if (!preset) return undefined;
  const base = joinPath(joinPath(ROOT, 'affinity'), 'nodeAffinityPreset');
  const wrap = 'failed to parse "nodeAffinityPreset" field';
  // `podAffinityPreset` (sic): machine-controller reuses that helper for the node preset.
  const rawType = await resolveField(
    ctx,
    preset.type,
    joinPath(base, 'type'),
    `${wrap}: failed to parse "nodeAffinity.type" field: failed to parse "podAffinityPreset" field`,
  );
  const key = await resolveField(ctx, preset.key, joinPath(base, 'key'), `${wrap}: failed to parse "nodeAffinity.key" field`);
  const values: string[] = [];
  for (const [i, v] of (preset.values ?? []).entries()) {
    const value = await resolveField(ctx, v, joinPath(joinPath(base, 'values'), i), `${wrap}: failed to parse "nodeAffinity.value" field`);
    if (value !== undefined) values.push(value);
  }
  if (rawType === undefined || key === undefined) return undefined;
  const type = rawType.toLowerCase();
  if (type === '') {
    if (key !== '' || values.length > 0) ctx.report.warn(`${base}: key and values are ignored because type is empty`);
    return undefined;
  }
  if (type !== 'soft' && type !== 'hard') {
    ctx.report.fail(
      joinPath(base, 'type'),
      rawType,
      `${wrap}: failed to parse "nodeAffinity.type" field: unknown affinityType: ${rawType}`,
    );
    return undefined;
  }
  if (key === '') {
    ctx.report.fail(joinPath(base, 'key'), key, `${wrap}: "nodeAffinity.key" must be set for a ${type} preset`);
    return undefined;
  }
  return { type, key, values };
}

/** Go's `strconv.ParseInt(s, 10, 32)`, with its error text. */
export function parseInt32(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** `topologySpreadConstraints` (`parseTopologySpreadConstraint`); whenUnsatisfiable is not validated. */
async function resolveTopology(ctx: RuleContext, list: NestedSpec['topologySpreadConstraints']): Promise<TopologySpreadConstraintSpec[]> {
  const out: TopologySpreadConstraintSpec[] = [];
  const wrap = 'failed to parse "topologySpreadConstraints" field: failed to parse "topologySpreadConstraint';
  for (const [i, c] of (list ?? []).entries()) {
    const at = joinPath(joinPath(ROOT, 'topologySpreadConstraints'), i);
    const skewPath = joinPath(at, 'maxSkew');
    const skewText = await resolveField(ctx, c.maxSkew, skewPath, `${wrap}.maxSkew" field`);
    let maxSkew: number | undefined;
    if (skewText !== undefined) {
      try {
        maxSkew = parseInt32(skewText);
      } catch (err) {
        ctx.report.fail(skewPath, skewText, `${wrap}.maxSkew" field: ${(err as Error).message}`);
      }
    }
    const topologyKey = await resolveField(ctx, c.topologyKey, joinPath(at, 'topologyKey'), `${wrap}.topologyKey" field`);
    const whenUnsatisfiable = await resolveField(
      ctx,
      c.whenUnsatisfiable,
      joinPath(at, 'whenUnsatisfiable'),
      `${wrap}.whenUnsatisfiable" field`,
    );
    if (maxSkew !== undefined && topologyKey !== undefined && whenUnsatisfiable !== undefined) {
      out.push({ maxSkew, topologyKey, whenUnsatisfiable });
    }
  }
  return out;
}

/** Validate's eviction rule; '' → External. */
function checkEviction(ctx: RuleContext, value: string | undefined, path: string): VirtualMachineSpecModel['evictionStrategy'] {
  if (!value || value === 'External') return 'External';
  if (value === 'LiveMigrate') return value;
  ctx.report.fail(path, value, `unsupported vm eviction strategy: ${value}`);
  return 'External';
}

/** Notices for fields machine-controller still accepts but ignores. */
function noteDeprecations(ctx: RuleContext, spec: NestedSpec): void {
  if (spec.virtualMachine?.flavor) {
    ctx.report.deprecate(
      `${ROOT}.virtualMachine.flavor is deprecated and ignored since ${SINCE} 40cb0e45b (2022); use virtualMachine.instancetype and virtualMachine.preference`,
    );
  }
  if (spec.affinity?.podAffinityPreset) {
    ctx.report.deprecate(
      `${ROOT}.affinity.podAffinityPreset is deprecated and ignored since ${SINCE} 5819bb5f2; use topologySpreadConstraints`,
    );
  }
  if (spec.affinity?.podAntiAffinityPreset) {
    ctx.report.deprecate(
      `${ROOT}.affinity.podAntiAffinityPreset is deprecated and ignored since ${SINCE} 68b11acab; use topologySpreadConstraints`,
    );
  }
}

/** Resolves a decoded nested cloudProviderSpec. Check `ctx.report.ok` before using the result. */
export async function resolveNestedSpec(ctx: RuleContext, spec: NestedSpec): Promise<ProviderPart> {
  const vmSpec: VirtualMachine = spec.virtualMachine ?? {};
  const tpl = vmSpec.template ?? {};
  const vmBase = joinPath(ROOT, 'virtualMachine');
  const tplBase = joinPath(vmBase, 'template');
  noteDeprecations(ctx, spec);

  const kubeconfig = await resolveKubeconfig(ctx, spec.auth?.kubeconfig, joinPath(ROOT, 'auth.kubeconfig'), {
    inlineMustBeBase64: true,
    wrap: 'failed to get value of "kubeconfig" field',
  });
  const multiQueue = await resolveBoolField(
    ctx,
    vmSpec.enableNetworkMultiQueue,
    joinPath(vmBase, 'enableNetworkMultiQueue'),
    'failed to get value of "enableNetworkMultiQueue" field',
  );
  const identity = await resolveIdentity(ctx, spec, ROOT);

  const cpus = await resolveField(ctx, tpl.cpus, joinPath(tplBase, 'cpus'), 'failed to get value of "cpus" field');
  const memory = await resolveField(ctx, tpl.memory, joinPath(tplBase, 'memory'), 'failed to get value of "memory" field');
  const instancetype = toMatcher(ctx, vmSpec.instancetype, joinPath(vmBase, 'instancetype'));
  const preference = toMatcher(ctx, vmSpec.preference, joinPath(vmBase, 'preference'));
  const resources =
    cpus !== undefined && memory !== undefined
      ? parseResources(ctx, { cpus, memory, cores: tpl.vcpus?.cores ?? 0, hasInstancetype: instancetype !== undefined, base: tplBase })
      : {};

  const primaryDisk = await resolvePrimaryDisk(ctx, tpl.primaryDisk, joinPath(tplBase, 'primaryDisk'));

  const policyPath = joinPath(vmBase, 'dnsPolicy');
  const policyText = await resolveField(ctx, vmSpec.dnsPolicy, policyPath, 'failed to parse "dnsPolicy" field');
  const dnsPolicy = policyText === undefined ? undefined : checkDnsPolicy(ctx, policyPath, policyText);
  const dnsConfig = vmSpec.dnsConfig ? toDnsConfig(vmSpec.dnsConfig) : undefined;

  const secondaryDisks = await resolveSecondaryDisks(ctx, tpl.secondaryDisks, joinPath(tplBase, 'secondaryDisks'));
  const nodeAffinity = await resolveNodeAffinity(ctx, spec.affinity);
  const topologySpreadConstraints = await resolveTopology(ctx, spec.topologySpreadConstraints);
  const { region, zone } = vmSpec.location ?? {};
  const subnet = vmSpec.providerNetwork?.vpc?.subnet?.name;

  checkDnsNone(ctx, dnsPolicy, dnsConfig, joinPath(vmBase, 'dnsConfig'));
  const evictionStrategy = checkEviction(ctx, vmSpec.evictionStrategy, joinPath(vmBase, 'evictionStrategy'));

  const vm: VirtualMachineSpecModel = {
    ...(instancetype && { instancetype }),
    ...(preference && { preference }),
    ...resources,
    primaryDisk,
    secondaryDisks,
    ...(dnsPolicy && { dnsPolicy }),
    ...(dnsConfig && { dnsConfig }),
    ...((region || zone) && { location: { ...(region && { region }), ...(zone && { zone }) } }),
    ...(subnet && { subnet }),
    networkMultiQueue: multiQueue?.isSet ? multiQueue.value : true,
    evictionStrategy,
    ...(nodeAffinity && { nodeAffinity }),
    topologySpreadConstraints,
  };
  return { ...identity, ...(kubeconfig !== undefined && { kubeconfig }), vm };
}
