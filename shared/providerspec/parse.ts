/**
 * `parseProviderSpec`: a Machine's `spec.providerSpec.value` → a validated, resolved
 * MachineConfig, or every problem found. Mirrors machine-controller's KubeVirt `getConfig` +
 * `Validate` (reference §1–§2) minus what needs the infra cluster (StorageProfile access modes,
 * instancetype lookup, the extra-headers Secret, reachability), which the I/O layer does.
 */
import type { ConfigVarResolver } from './configvar.js';
import type { RuleContext } from './field-rules.js';
import { cannotUnmarshal, decodeIssues, isJsonObject } from './go-json.js';
import { SpecReport } from './issues.js';
import { detectSchema, flatSpecSchema, mixedSchemaMessage, resolveFlatSpec } from './legacy.js';
import { type ProviderPart, resolveNestedSpec } from './nested-spec.js';
import { type Envelope, envelopeSchema, nestedSpecSchema } from './provider-spec.js';
import { type MachineConfig, type OperatingSystem, type ParseResult, SUPPORTED_OS } from './types.js';
import { recordingResolver, scrubIssues, type ReferencedValue } from './referenced-values.js';
import { checkSanity } from './sanity.js';

const PROVIDER = 'kubevirt';

/** Paths whose values may hold the kubeconfig (nested `auth…`, flat `kubeconfig`/`config`). */
const isKubeconfigPath = (path: string) => /^cloudProviderSpec\.(auth|kubeconfig|config)\b/.test(path);

/** Envelope rules: provider, operating system, operatingSystemSpec. */
function checkEnvelope(report: SpecReport, env: Envelope): void {
  const provider = env.cloudProvider ?? '';
  if (provider !== PROVIDER) {
    report.fail('cloudProvider', provider, `unsupported cloud provider ${JSON.stringify(provider)}: only "${PROVIDER}" is handled here`);
  }
  const os = env.operatingSystem ?? '';
  if (!(SUPPORTED_OS as readonly string[]).includes(os)) {
    report.fail('operatingSystem', os, `invalid/not supported operating system specified ${JSON.stringify(os)}: os not supported`);
  }
  if (env.operatingSystemSpec === undefined) {
    report.fail('operatingSystemSpec', undefined, 'operatingSystemSpec in the MachineDeployment cannot be empty');
  } else if (!isJsonObject(env.operatingSystemSpec)) {
    // Go only needs it present; OSM needs an object, and so does our model.
    report.fail('operatingSystemSpec', env.operatingSystemSpec, cannotUnmarshal(env.operatingSystemSpec, 'map[string]interface {}'));
  }
}

/** Decodes and resolves cloudProviderSpec in whichever schema it uses. */
async function parseCloudProviderSpec(
  ctx: RuleContext,
  spec: unknown,
): Promise<{ part: ProviderPart; schema: 'nested' | 'flat' } | undefined> {
  if (spec === undefined) {
    // Go: decoding an empty RawExtension.
    ctx.report.fail('cloudProviderSpec', undefined, 'unexpected end of JSON input (cloudProviderSpec is missing)');
    return undefined;
  }
  const detected = detectSchema(spec);
  if (detected.schema === 'mixed') {
    ctx.report.fail('cloudProviderSpec', { flat: detected.flatFields, nested: detected.nestedFields }, mixedSchemaMessage(detected));
    return undefined;
  }
  if (detected.schema === 'flat') {
    const decoded = flatSpecSchema.safeParse(spec, { reportInput: true });
    if (!decoded.success) {
      ctx.report.addIssues(decodeIssues(decoded.error.issues, 'cloudProviderSpec', spec, isKubeconfigPath));
      return undefined;
    }
    return { part: await resolveFlatSpec(ctx, decoded.data), schema: 'flat' };
  }
  const decoded = nestedSpecSchema.safeParse(spec, { reportInput: true });
  if (!decoded.success) {
    ctx.report.addIssues(decodeIssues(decoded.error.issues, 'cloudProviderSpec', spec, isKubeconfigPath));
    return undefined;
  }
  return { part: await resolveNestedSpec(ctx, decoded.data), schema: 'nested' };
}

/**
 * Validates and resolves a providerSpec value. ConfigVar references are read through
 * `resolver`; nothing else is fetched. All issues found are returned together; each names its
 * path under `providerSpec.value` and the offending value (secrets redacted).
 */
export async function parseProviderSpec(value: unknown, resolver: ConfigVarResolver): Promise<ParseResult> {
  if (value === null || value === undefined) {
    return { ok: false, issues: [{ path: '', value, message: 'machine.spec.providerSpec.value is nil' }] };
  }
  const decoded = envelopeSchema.safeParse(value, { reportInput: true });
  if (!decoded.success) return { ok: false, issues: decodeIssues(decoded.error.issues, '', value) };
  const env = decoded.data;

  const report = new SpecReport();
  checkEnvelope(report, env);
  // Every value read through a reference, so that no message can quote one (they name the
  // reference instead); the result carries them for the I/O layer's messages too.
  const referenced: ReferencedValue[] = [];
  // A spec for another provider is not ours to interpret.
  const parsed =
    env.cloudProvider === PROVIDER
      ? await parseCloudProviderSpec({ report, resolver: recordingResolver(resolver, referenced) }, env.cloudProviderSpec)
      : undefined;
  if (!report.ok || !parsed) return { ok: false, issues: scrubIssues(report.issues, referenced) };

  const config: MachineConfig = {
    operatingSystem: env.operatingSystem as OperatingSystem,
    operatingSystemSpec: env.operatingSystemSpec as Record<string, unknown>,
    sshPublicKeys: env.sshPublicKeys ?? [],
    ...(env.caPublicKey && { caPublicKey: env.caPublicKey }),
    ...(env.network && { network: env.network as Record<string, unknown> }),
    ...(env.overwriteCloudConfig !== undefined && { overwriteCloudConfig: env.overwriteCloudConfig }),
    ...parsed.part,
  };
  // Values machine-controller accepts but builds broken objects from.
  checkSanity(report, config, parsed.schema);
  if (!report.ok) return { ok: false, issues: scrubIssues(report.issues, referenced) };
  return { ok: true, config, deprecations: report.deprecations, warnings: report.warnings, schema: parsed.schema, referenced };
}
