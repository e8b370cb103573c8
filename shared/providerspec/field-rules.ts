/**
 * Resolution and validation rules shared by the nested and the flat 2019 schema: ConfigVar
 * fields with machine-controller's error wrapping, identity (cluster/project), the kubeconfig,
 * resources, quantities and DNS. Each rule records issues in a SpecReport and carries on, so
 * one parse reports every problem.
 */
import {
  type ConfigVarBool,
  type ConfigVarResolver,
  type ConfigVarString,
  type KeyRef,
  isCompleteRef,
  resolveBool,
  resolveString,
} from './configvar.js';
import { REDACTED, type SpecReport, errorMessage, joinPath } from './issues.js';
import { decodeBase64Lenient, decodeBase64Strict, validateKubeconfig } from './kubeconfig.js';
import { parseQuantity, type Quantity } from './quantity.js';
import type { PodDnsConfig, VirtualMachineSpecModel } from './types.js';

/** What every rule needs: where to report, how to read references. */
export interface RuleContext {
  report: SpecReport;
  resolver: ConfigVarResolver;
}

/** Warnings for parts of a ConfigVar that machine-controller silently ignores (typos, mostly). */
function warnIgnoredParts(
  ctx: RuleContext,
  cv: { ignoredFields?: string[]; secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef },
  path: string,
): void {
  for (const field of cv.ignoredFields ?? []) {
    ctx.report.warn(`${joinPath(path, field)}: unknown field "${field}" in a ConfigVar is ignored (as machine-controller does)`);
  }
  for (const refName of ['secretKeyRef', 'configMapKeyRef'] as const) {
    const ref = cv[refName];
    if (ref && (ref.name || ref.namespace || ref.key) && !isCompleteRef(ref)) {
      ctx.report.warn(`${joinPath(path, refName)} is ignored: namespace, name and key must all be set`);
    }
  }
}

/**
 * Resolves a ConfigVarString; on failure records `<wrap>: <error>` at `path` and returns
 * undefined. `wrap` is machine-controller's prefix, e.g. `failed to get value of "cpus" field`.
 */
export async function resolveField(
  ctx: RuleContext,
  cv: ConfigVarString | undefined,
  path: string,
  wrap: string,
): Promise<string | undefined> {
  if (!cv) return '';
  warnIgnoredParts(ctx, cv, path);
  try {
    return await resolveString(cv, ctx.resolver);
  } catch (err) {
    ctx.report.fail(path, cv, `${wrap}: ${errorMessage(err)}`);
    return undefined;
  }
}

/** Resolves a ConfigVarBool like {@link resolveField}. */
export async function resolveBoolField(
  ctx: RuleContext,
  cv: ConfigVarBool | undefined,
  path: string,
  wrap: string,
): Promise<{ value: boolean; isSet: boolean } | undefined> {
  if (cv) warnIgnoredParts(ctx, cv, path);
  try {
    return await resolveBool(cv, ctx.resolver);
  } catch (err) {
    ctx.report.fail(path, cv, `${wrap}: ${errorMessage(err)}`);
    return undefined;
  }
}

/**
 * `clusterName` and `projectID`; the controller's env `CLUSTER_ID` / `PROJECT_ID`, when
 * non-empty, override them (KKP sets them per user cluster).
 */
export async function resolveIdentity(
  ctx: RuleContext,
  spec: { clusterName?: ConfigVarString; projectID?: ConfigVarString },
  base: string,
): Promise<{ clusterName: string; projectID: string }> {
  const clusterName = await resolveField(
    ctx,
    spec.clusterName,
    joinPath(base, 'clusterName'),
    'failed to get value of "clusterName" field',
  );
  const projectID = await resolveField(ctx, spec.projectID, joinPath(base, 'projectID'), 'failed to get value of "projectID" field');
  return {
    clusterName: ctx.resolver.env('CLUSTER_ID') || (clusterName ?? ''),
    projectID: ctx.resolver.env('PROJECT_ID') || (projectID ?? ''),
  };
}

/** The kubeconfig ConfigVar as it may appear in an issue: references, never the text. */
function redactKubeconfig(cv: ConfigVarString | undefined): unknown {
  if (!cv) return undefined;
  const { value, secretKeyRef, configMapKeyRef } = cv;
  return { value: value === '' ? '' : REDACTED, ...(secretKeyRef && { secretKeyRef }), ...(configMapKeyRef && { configMapKeyRef }) };
}

/**
 * Resolves and checks the infra kubeconfig. `inlineMustBeBase64`: the nested schema requires a
 * non-empty inline `.value` to be base64; references, env `KUBEVIRT_KUBECONFIG` and the flat
 * schema's inline value are decoded leniently (raw YAML/JSON accepted). Returns undefined when
 * nothing is configured (the I/O layer then uses its in-cluster/default connection).
 */
export async function resolveKubeconfig(
  ctx: RuleContext,
  cv: ConfigVarString | undefined,
  path: string,
  opts: { inlineMustBeBase64: boolean; wrap: string },
): Promise<string | undefined> {
  let text: string;
  let fromSpec = true;
  if (opts.inlineMustBeBase64 && cv && cv.value !== '') {
    try {
      text = decodeBase64Strict(cv.value);
    } catch (err) {
      ctx.report.fail(
        path,
        redactKubeconfig(cv),
        `failed to decode base64 encoded kubeconfig. Expected value is a base64 encoded Kubeconfig in JSON or YAML format: ${errorMessage(err)}`,
      );
      return undefined;
    }
  } else {
    if (cv) warnIgnoredParts(ctx, cv, path);
    let resolved = '';
    let refError: unknown;
    try {
      resolved = await resolveString(cv, ctx.resolver);
    } catch (err) {
      refError = err;
    }
    // GetStringValueOrEnv: an error or '' falls back to the environment.
    if (resolved === '') {
      resolved = ctx.resolver.env('KUBEVIRT_KUBECONFIG') ?? '';
      // The operator's own kubeconfig (the machine-controller variable) may use files.
      fromSpec = false;
    }
    if (refError !== undefined) {
      // machine-controller would go on silently; with no fallback we would silently target
      // the wrong (in-cluster) infra cluster instead, so this is an issue.
      if (resolved === '') {
        ctx.report.fail(path, redactKubeconfig(cv), `${opts.wrap}: ${errorMessage(refError)}`);
        return undefined;
      }
      ctx.report.warn(`${path}: ${errorMessage(refError)}; using KUBEVIRT_KUBECONFIG from the environment`);
    }
    if (resolved === '') return undefined;
    text = decodeBase64Lenient(resolved);
  }
  try {
    validateKubeconfig(text, { inlineOnly: fromSpec });
  } catch (err) {
    ctx.report.fail(path, redactKubeconfig(cv) ?? REDACTED, `failed to decode kubeconfig: ${errorMessage(err)}`);
    return undefined;
  }
  return text;
}

/**
 * Parses a quantity; on failure records `<wrap>: <Go message>` and returns undefined. Negative
 * quantities are rejected too (Go parses them; the API server would refuse them later).
 */
export function checkQuantity(ctx: RuleContext, path: string, text: string, wrap: string): Quantity | undefined {
  try {
    const q = parseQuantity(text);
    if (q.negative) {
      ctx.report.fail(path, text, `${wrap}: quantity must not be negative`);
      return undefined;
    }
    return q;
  } catch (err) {
    ctx.report.fail(path, text, `${wrap}: ${errorMessage(err)}`);
    return undefined;
  }
}

/** Inputs of {@link parseResources}, already resolved. */
export interface ResourceInputs {
  cpus: string;
  memory: string;
  cores: number;
  hasInstancetype: boolean;
  /** Path of the object holding `cpus`, `memory` and `vcpus`. */
  base: string;
}

/**
 * machine-controller's `parseResources` + the Validate checks: with an instancetype nothing is
 * parsed; otherwise memory is required, and CPUs unless `vcpus.cores` ≠ 0.
 */
export function parseResources(ctx: RuleContext, input: ResourceInputs): Pick<VirtualMachineSpecModel, 'resources' | 'cores'> {
  const { cpus, memory, cores, base } = input;
  if (input.hasInstancetype) {
    if (cpus !== '' || memory !== '' || cores !== 0) {
      ctx.report.warn(`${base}: cpus, memory and vcpus are ignored because an instancetype is set`);
    }
    return {};
  }
  const wrap = 'failed to configure resource requests and limits and vcpus';
  const mem = checkQuantity(ctx, joinPath(base, 'memory'), memory, `${wrap}: failed to parse memory requests`);
  if (cores < 0) {
    ctx.report.fail(joinPath(base, 'vcpus.cores'), cores, 'vcpus.cores must not be negative');
    return {};
  }
  if (cores !== 0) {
    if (cpus !== '') ctx.report.warn(`${joinPath(base, 'cpus')} is ignored because vcpus.cores is set`);
    return mem ? { resources: { memory }, cores } : {};
  }
  const cpu = checkQuantity(ctx, joinPath(base, 'cpus'), cpus, `${wrap}: failed to parse cpu requests`);
  if (cpu?.isZero) {
    ctx.report.fail(joinPath(base, 'cpus'), cpus, 'no CPUs configured. Either vCPUs or CPUs have to be set');
    return {};
  }
  return mem && cpu ? { resources: { cpu: cpus, memory } } : {};
}

/** The DNS policies machine-controller accepts (case-sensitive). */
export const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const;
export type DnsPolicy = (typeof DNS_POLICIES)[number];

/** '' → unset; otherwise one of {@link DNS_POLICIES}. */
export function checkDnsPolicy(ctx: RuleContext, path: string, policy: string): DnsPolicy | undefined {
  if (policy === '') return undefined;
  if ((DNS_POLICIES as readonly string[]).includes(policy)) return policy as DnsPolicy;
  ctx.report.fail(path, policy, `failed to get dns policy: unknown dns policy: ${policy}`);
  return undefined;
}

/** Decoded `PodDNSConfig` → the model's shape (only the members that are set). */
export function toDnsConfig(raw: {
  nameservers?: string[];
  searches?: string[];
  options?: { name?: string; value?: string }[];
}): PodDnsConfig {
  return {
    ...(raw.nameservers && { nameservers: raw.nameservers }),
    ...(raw.searches && { searches: raw.searches }),
    ...(raw.options && {
      options: raw.options.map((o) => ({ name: o.name ?? '', ...(o.value !== undefined && { value: o.value }) })),
    }),
  };
}

/** Validate's rule: policy None needs `dnsConfig.nameservers`. */
export function checkDnsNone(ctx: RuleContext, policy: DnsPolicy | undefined, config: PodDnsConfig | undefined, path: string): void {
  if (policy === 'None' && !config?.nameservers?.length) {
    ctx.report.fail(path, config, 'dns config must be specified when dns policy is None');
  }
}
