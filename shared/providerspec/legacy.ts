/**
 * The flat cloudProviderSpec of 2019–2022 (machine-controller 4b1149e9e … 72f156a2c):
 * `sourceURL`, `pvcSize`, `cpus`, `memory`, `namespace`, `storageClassName`, `config`/`kubeconfig`,
 * `dnsPolicy`, `dnsConfig`. Detected by its top-level keys and normalised into the same model
 * as the nested schema, with the storage the 2019 provider's DataVolume used (a `pvc` target,
 * ReadWriteOnce). Each flat field used yields a deprecation notice, not an error.
 */
import * as z from 'zod';
import { configVarStringSchema as cvs } from './configvar.js';
import {
  type RuleContext,
  checkDnsNone,
  checkDnsPolicy,
  checkQuantity,
  parseResources,
  resolveField,
  resolveIdentity,
  resolveKubeconfig,
  toDnsConfig,
} from './field-rules.js';
import { foldName, goStruct, isJsonObject } from './go-json.js';
import { joinPath } from './issues.js';
import type { ProviderPart } from './nested-spec.js';
import { NESTED_TOP_LEVEL_FIELDS, podDnsConfigSchema } from './provider-spec.js';
import type { PrimaryDiskSpec } from './types.js';

/** The flat schema's fields (c6c7d0a64 + 484b4fc01), plus `config`, the pre-c362d5ba4 name of `kubeconfig`. */
export const FLAT_FIELDS = [
  'config',
  'kubeconfig',
  'cpus',
  'memory',
  'namespace',
  'sourceURL',
  'pvcSize',
  'storageClassName',
  'dnsPolicy',
  'dnsConfig',
] as const;
type FlatField = (typeof FLAT_FIELDS)[number];

/** zod schema of the flat cloudProviderSpec (strict, case-insensitive keys like the nested one). */
export const flatSpecSchema = goStruct('kubevirt.RawConfig', {
  config: cvs,
  kubeconfig: cvs,
  cpus: cvs,
  memory: cvs,
  namespace: cvs,
  sourceURL: cvs,
  pvcSize: cvs,
  storageClassName: cvs,
  dnsPolicy: cvs,
  dnsConfig: podDnsConfigSchema,
});
export type FlatSpec = z.output<typeof flatSpecSchema>;

const ROOT = 'cloudProviderSpec';
const NESTED_SINCE = 'machine-controller 72f156a2c (2022)';

/** Where each flat field lives in the current schema (`namespace` has no successor). */
const REPLACEMENT: Record<FlatField, string> = {
  config: 'auth.kubeconfig',
  kubeconfig: 'auth.kubeconfig',
  cpus: 'virtualMachine.template.cpus',
  memory: 'virtualMachine.template.memory',
  namespace: '',
  sourceURL: 'virtualMachine.template.primaryDisk.osImage',
  pvcSize: 'virtualMachine.template.primaryDisk.size',
  storageClassName: 'virtualMachine.template.primaryDisk.storageClassName',
  dnsPolicy: 'virtualMachine.dnsPolicy',
  dnsConfig: 'virtualMachine.dnsConfig',
};

/** The deprecation notice for one flat field. */
export function flatDeprecation(field: FlatField): string {
  if (field === 'namespace') {
    return `${ROOT}.namespace is deprecated since ${NESTED_SINCE}, which creates VMs in the controller's namespace (POD_NAMESPACE); it is still honoured here`;
  }
  const since = field === 'config' ? `machine-controller c362d5ba4 (2019, renamed kubeconfig) and ${NESTED_SINCE}` : NESTED_SINCE;
  return `${ROOT}.${field} is deprecated since ${since}; use ${REPLACEMENT[field]}`;
}

/** Canonical names of the `fields` present (non-null) at the top of `spec`, matched like Go. */
function presentFields(spec: Record<string, unknown>, fields: readonly string[]): string[] {
  const keys = Object.keys(spec)
    .filter((k) => spec[k] !== null)
    .map(foldName);
  return fields.filter((f) => keys.includes(foldName(f)));
}

/** Which schema a cloudProviderSpec uses; `mixed` names the fields of each. */
export type DetectedSchema = { schema: 'nested' | 'flat' } | { schema: 'mixed'; flatFields: string[]; nestedFields: string[] };

/** Judges by top-level keys: flat keys only → flat; anything else → nested (strictly decoded). */
export function detectSchema(spec: unknown): DetectedSchema {
  if (!isJsonObject(spec)) return { schema: 'nested' };
  const flatFields = presentFields(spec, FLAT_FIELDS);
  const nestedFields = presentFields(spec, NESTED_TOP_LEVEL_FIELDS);
  if (flatFields.length > 0 && nestedFields.length > 0) return { schema: 'mixed', flatFields, nestedFields };
  return { schema: flatFields.length > 0 ? 'flat' : 'nested' };
}

/** The issue text for a spec that mixes both schemas. */
export function mixedSchemaMessage(d: { flatFields: string[]; nestedFields: string[] }): string {
  return (
    `cloudProviderSpec mixes flat (2019) fields [${d.flatFields.join(', ')}] with nested fields ` +
    `[${d.nestedFields.join(', ')}]; use only the nested schema`
  );
}

/** The 2019 provider imported `sourceURL` over HTTP; other forms go through auto-detection. */
function imageSource(url: string): string {
  return /^https?:\/\/\S+$/i.test(url) ? 'http' : '';
}

/** Resolves a decoded flat cloudProviderSpec. Check `ctx.report.ok` before using the result. */
export async function resolveFlatSpec(ctx: RuleContext, spec: FlatSpec): Promise<ProviderPart> {
  const at = (field: FlatField) => joinPath(ROOT, field);
  for (const field of FLAT_FIELDS) if (spec[field] !== undefined) ctx.report.deprecate(flatDeprecation(field));
  if (spec.config && spec.kubeconfig) {
    ctx.report.fail(
      at('config'),
      { config: '<redacted>', kubeconfig: '<redacted>' },
      'fields "config" and "kubeconfig" are the same setting (renamed in c362d5ba4); set only one',
    );
  }
  const kubeconfigField = spec.kubeconfig ? 'kubeconfig' : 'config';
  const kubeconfig = await resolveKubeconfig(ctx, spec[kubeconfigField], at(kubeconfigField), {
    inlineMustBeBase64: false,
    wrap: 'failed to get value of "config" field',
  });
  // No clusterName/projectID in this schema: only the controller's environment can set them.
  const identity = await resolveIdentity(ctx, {}, ROOT);

  const cpus = await resolveField(ctx, spec.cpus, at('cpus'), 'failed to get value of "cpus" field');
  const memory = await resolveField(ctx, spec.memory, at('memory'), 'failed to get value of "memory" field');
  const resources =
    cpus !== undefined && memory !== undefined ? parseResources(ctx, { cpus, memory, cores: 0, hasInstancetype: false, base: ROOT }) : {};
  const namespace = await resolveField(ctx, spec.namespace, at('namespace'), 'failed to get value of "namespace" field');

  const sourceURL = await resolveField(ctx, spec.sourceURL, at('sourceURL'), 'failed to get value of "sourceURL" field');
  if (sourceURL === '') ctx.report.fail(at('sourceURL'), sourceURL, '"sourceURL" must be set');
  const pvcSize = await resolveField(ctx, spec.pvcSize, at('pvcSize'), 'failed to get value of "pvcSize" field');
  if (pvcSize !== undefined) checkQuantity(ctx, at('pvcSize'), pvcSize, 'failed to parse value of "pvcSize" field');
  const storageClassName = await resolveField(
    ctx,
    spec.storageClassName,
    at('storageClassName'),
    'failed to get value of "storageClassName" field',
  );

  const policyText = await resolveField(ctx, spec.dnsPolicy, at('dnsPolicy'), 'failed to parse "dnsPolicy" field');
  const dnsPolicy = policyText === undefined ? undefined : checkDnsPolicy(ctx, at('dnsPolicy'), policyText);
  const dnsConfig = spec.dnsConfig ? toDnsConfig(spec.dnsConfig) : undefined;
  checkDnsNone(ctx, dnsPolicy, dnsConfig, at('dnsConfig'));

  const primaryDisk: PrimaryDiskSpec = {
    size: pvcSize ?? '',
    storageClassName: storageClassName ?? '',
    // What the 2019 provider's DataVolume template had: spec.pvc with ReadWriteOnce.
    storageAccessType: 'ReadWriteOnce',
    storageTarget: 'pvc',
    image: { osImage: sourceURL ?? '', source: imageSource(sourceURL ?? ''), pullMethod: 'node' },
  };
  return {
    ...identity,
    ...(kubeconfig !== undefined && { kubeconfig }),
    ...(namespace && { namespace }),
    vm: {
      ...resources,
      primaryDisk,
      secondaryDisks: [],
      ...(dnsPolicy && { dnsPolicy }),
      ...(dnsConfig && { dnsConfig }),
      // Current machine-controller defaults: the 2019 provider set neither.
      networkMultiQueue: true,
      evictionStrategy: 'External',
      topologySpreadConstraints: [],
    },
  };
}
