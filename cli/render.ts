/**
 * `kubevirt-machine-functions render [file|-]`: what the system would create for a Machine,
 * MachineSet or MachineDeployment — the VirtualMachine and the userdata Secret — as YAML, or the
 * validation errors (exit 1). Everything that would come from a cluster comes from flags.
 *
 * The input may hold the infra kubeconfig, so nothing printed quotes the input verbatim: YAML
 * syntax errors are reported by position, spec issues come redacted from parseProviderSpec.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify, type YAMLError } from 'yaml';
import { parseProviderSpec } from '../shared/providerspec/parse.js';
import { offlineResolver } from '../shared/providerspec/configvar.js';
import { buildVirtualMachine } from '../shared/vm/build-vm.js';
import { buildUserdataSecret, builtinCloudInit, userdataFromOsm } from '../shared/vm/userdata.js';
import { ownershipLabels, withOwnership } from '../shared/infra/ownership.js';
import { ANN_IGNITION, DEFAULT_INFRA_NAMESPACE } from '../shared/constants.js';
import type { VirtualMachine } from '../shared/vm/types.js';
import { ANN_GOLDEN_CONTENT, cloneFromGolden } from '../shared/image/golden.js';
import { imageCacheEnabled, planGolden, type ImageFacts } from '../shared/image/golden-plan.js';

export const RENDER_USAGE = `Usage: kubevirt-machine-functions render [FILE|-] [flags]

Reads Machine, MachineSet or MachineDeployment YAML (file or stdin) and prints the objects the
machine function would create on the infra cluster, or the validation errors (exit code 1).
Usage errors and unreadable files exit with code 2.

Flags (what would otherwise come from a cluster):
  --namespace NS             infra namespace for the VM           (default: the flat spec's
                             'namespace', else $INFRA_NAMESPACE, else $POD_NAMESPACE,
                             else ${DEFAULT_INFRA_NAMESPACE})
  --machine-name NAME        Machine name for a MachineSet/MachineDeployment  (default: <name>-0)
  --machine-deployment NAME  MachineDeployment name (label 'md')  (default: the input's name for a
                             MachineDeployment, none for a Machine)
  --userdata-secret NAME     userdata Secret name                 (default: userdata-<machine>)
  --userdata FILE            OSM cloud-config to use (<MACHINE_NAME> is replaced)
                             (default: the built-in cloud-init with the spec's SSH keys)
  --access-mode MODE         primary disk access mode when storageAccessType is empty (the
                             function asks CDI's StorageProfile)  (default: ReadWriteOnce)
  --secret NS/NAME:KEY=VALUE a Secret value for secretKeyRef ConfigVars (repeatable);
                             unresolvable references are reported, never invented
  --env NAME=VALUE           an environment variable of the controller (repeatable), e.g.
                             KUBEVIRT_KUBECONFIG, CLUSTER_ID, PROJECT_ID, INFRA_NAMESPACE
  --with-ownership           add the ownership labels the function adds (machine uid 'render')
  --show-secrets             print userdata (the Secret's data, Flatcar's Ignition annotation)
                             instead of '<redacted>'
  --image-cache on|off       golden images: print the golden DataVolume and make the disks
                             clones of it, as the function does unless IMAGE_CACHE=off
                             (default: $IMAGE_CACHE, else off = machine-controller's VM)
  --image-etag ETAG          what the function's image preflight learns, which names the
  --image-last-modified DATE golden: the image's ETag, Last-Modified and length in bytes, and
  --image-length BYTES       the virtual size its header states (sizes the golden; without
  --image-virtual-size BYTES it, the Machine's smallest disk does)
  --image-digest DIGEST      a registry image's manifest digest (sha256:<hex>), which the
                             function's preflight asks the registry for: it names the golden,
                             whose source is pinned to it. Without it a docker:// image that
                             does not pin @sha256:… is rendered uncached, as the function
                             leaves an image whose digest it cannot learn
`;

const REDACTED = '<redacted>';
const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const API_VERSION = 'cluster.k8s.io/v1alpha1';

interface Flags {
  file?: string;
  namespace?: string;
  machineName?: string;
  machineDeployment?: string;
  userdataSecret?: string;
  userdataFile?: string;
  accessMode: string;
  secrets: Record<string, Record<string, string>>;
  env: Record<string, string | undefined>;
  withOwnership: boolean;
  showSecrets: boolean;
  /** Undefined: as $IMAGE_CACHE says. */
  imageCache?: boolean;
  imageFacts: ImageFacts;
}

/** Bad command line or unreadable file: exit code 2. */
export class UsageError extends Error {}

export function parseRenderArgs(argv: string[], env: NodeJS.ProcessEnv): Flags {
  const f: Flags = {
    accessMode: 'ReadWriteOnce',
    secrets: {},
    env: { ...env },
    withOwnership: false,
    showSecrets: false,
    imageFacts: { content: {} },
  };
  const bytes = (name: string, v: string): number => {
    if (!/^\d+$/.test(v)) throw new UsageError(`${name} expects a number of bytes, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  const take = (i: number, name: string): string => {
    const v = argv[i + 1];
    // `--namespace --show-secrets` would otherwise name a namespace "--show-secrets".
    if (v === undefined || v === '' || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--namespace':
        f.namespace = take(i++, a);
        break;
      case '--machine-name':
        f.machineName = take(i++, a);
        break;
      case '--machine-deployment':
        f.machineDeployment = take(i++, a);
        break;
      case '--userdata-secret':
        f.userdataSecret = take(i++, a);
        break;
      case '--userdata':
        f.userdataFile = take(i++, a);
        break;
      case '--access-mode': {
        f.accessMode = take(i++, a);
        if (!ACCESS_MODES.includes(f.accessMode)) {
          throw new UsageError(`--access-mode must be one of ${ACCESS_MODES.join(', ')}, got ${JSON.stringify(f.accessMode)}`);
        }
        break;
      }
      case '--image-cache': {
        const v = take(i++, a);
        if (v !== 'on' && v !== 'off') throw new UsageError(`--image-cache must be on or off, got ${JSON.stringify(v)}`);
        f.imageCache = v === 'on';
        break;
      }
      case '--image-etag':
        f.imageFacts.content.etag = take(i++, a);
        break;
      case '--image-last-modified':
        f.imageFacts.content.lastModified = take(i++, a);
        break;
      case '--image-length':
        f.imageFacts.content.length = bytes(a, take(i++, a));
        break;
      case '--image-virtual-size':
        f.imageFacts.virtualSize = bytes(a, take(i++, a));
        break;
      case '--image-digest': {
        const v = take(i++, a);
        if (!/^sha256:[a-f0-9]{64}$/.test(v))
          throw new UsageError(`--image-digest expects sha256:<64 lower-case hex>, got ${JSON.stringify(v)}`);
        f.imageFacts.content.checksum = v;
        break;
      }
      case '--with-ownership':
        f.withOwnership = true;
        break;
      case '--show-secrets':
        f.showSecrets = true;
        break;
      case '--env': {
        const v = take(i++, a);
        const eq = v.indexOf('=');
        // The value may be a credential (KUBEVIRT_KUBECONFIG): never echo it.
        if (eq <= 0) throw new UsageError('--env expects NAME=VALUE');
        f.env[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case '--secret': {
        const v = take(i++, a);
        const m = /^([^/]+)\/([^:]+):([^=]+)=(.*)$/s.exec(v);
        if (!m) throw new UsageError(`--secret expects NS/NAME:KEY=VALUE, got ${JSON.stringify(v.replace(/=.*/s, '=...'))}`);
        (f.secrets[`${m[1]}/${m[2]}`] ??= {})[m[3]] = m[4];
        break;
      }
      default:
        if (a.startsWith('--')) throw new UsageError(`unknown flag ${a}`);
        if (f.file !== undefined) throw new UsageError('only one input file');
        f.file = a;
    }
  }
  return f;
}

interface Input {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
}

interface MachineParts {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  spec: any;
  md?: string;
}

/** The Machine-shaped parts of an input object (its own for a Machine, the template's otherwise), or why not. */
function machineOf(obj: Input, f: Flags): MachineParts | string {
  const kind = obj.kind;
  if (kind !== 'Machine' && kind !== 'MachineSet' && kind !== 'MachineDeployment') {
    const shown = kind === undefined ? 'unset' : typeof kind === 'string' ? JSON.stringify(kind.slice(0, 63)) : `of type ${typeof kind}`;
    return `unsupported kind ${shown}: expected Machine, MachineSet or MachineDeployment`;
  }
  if (obj.apiVersion !== undefined && obj.apiVersion !== API_VERSION) {
    const shown = typeof obj.apiVersion === 'string' ? JSON.stringify(obj.apiVersion.slice(0, 63)) : `of type ${typeof obj.apiVersion}`;
    return `unsupported apiVersion ${shown} for ${kind}: expected ${API_VERSION} (machine-controller's API)`;
  }
  const meta = obj.metadata ?? {};
  const namespace = meta.namespace ?? 'default';
  if (kind === 'Machine') {
    return {
      name: f.machineName ?? meta.name ?? 'machine',
      namespace,
      labels: meta.labels,
      annotations: meta.annotations,
      spec: obj.spec ?? {},
      md: f.machineDeployment,
    };
  }
  const t = obj.spec?.template ?? {};
  return {
    name: f.machineName ?? `${meta.name ?? 'machine'}-0`,
    namespace,
    labels: t.metadata?.labels,
    annotations: t.metadata?.annotations,
    spec: t.spec ?? {},
    md: f.machineDeployment ?? (kind === 'MachineDeployment' ? meta.name : undefined),
  };
}

/** yaml's error codes whose messages are fixed text (others may quote the input). */
const QUIET_YAML_CODES = new Set([
  'BAD_INDENT',
  'BAD_SCALAR_START',
  'BLOCK_AS_IMPLICIT_KEY',
  'BLOCK_IN_FLOW',
  'DUPLICATE_KEY',
  'KEY_OVER_1024_CHARS',
  'MISSING_CHAR',
  'MULTILINE_IMPLICIT_KEY',
  'TAB_AS_INDENT',
]);

/**
 * A YAML syntax error by position only. yaml's own message ends with the offending source lines
 * (and some messages quote a token), which may be the pasted kubeconfig.
 */
function yamlProblem(e: YAMLError): string {
  const pos = e.linePos?.[0];
  const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
  const text = QUIET_YAML_CODES.has(e.code) ? e.message.split(' at line ')[0].split(':\n')[0] : e.code;
  return `invalid YAML${where}: ${text}`;
}

/** The input's documents as plain objects, or the first syntax problem. */
function readDocuments(text: string): unknown[] | string {
  const objects: unknown[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length) return yamlProblem(d.errors[0]);
    try {
      objects.push(d.toJS({ maxAliasCount: 100 }));
    } catch {
      return 'invalid YAML: too many aliases';
    }
  }
  return objects.filter((o) => o !== null && o !== undefined);
}

/** Reads `--userdata`; an unreadable file is a usage error. */
function readUserdataFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --userdata ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Flatcar's Ignition annotation carries the userdata itself. */
function redactIgnition(vm: VirtualMachine, userdata: string): void {
  const ann = vm.spec.template.metadata.annotations;
  if (ann?.[ANN_IGNITION] === userdata) ann[ANN_IGNITION] = REDACTED;
}

export interface RenderResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Renders every document of `text`; pure apart from reading `--userdata` (an unreadable file
 * throws {@link UsageError}). A document that cannot be rendered is reported (code 1) and the
 * others are still rendered.
 */
export async function render(text: string, f: Flags): Promise<RenderResult> {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const objects = readDocuments(text);
  if (typeof objects === 'string') return { stdout: '', stderr: `${objects}\n`, code: 1 };
  if (objects.length === 0) return { stdout: '', stderr: 'no Machine, MachineSet or MachineDeployment in the input\n', code: 1 };
  const osmUserdata = f.userdataFile === undefined ? undefined : readUserdataFile(f.userdataFile);
  for (const [index, raw] of objects.entries()) {
    const obj = (typeof raw === 'object' ? raw : {}) as Input;
    const m = machineOf(obj, f);
    if (typeof m === 'string') {
      code = 1;
      err.push(`document ${index + 1}: ${m}`);
      continue;
    }
    const label = `${obj.kind} ${m.namespace}/${obj.metadata?.name ?? ''}`;
    const parsed = await parseProviderSpec(m.spec?.providerSpec?.value, offlineResolver(f.env, f.secrets));
    if (!parsed.ok) {
      code = 1;
      err.push(`${label}: invalid providerSpec:`);
      // Each message already starts with its path (SpecIssue convention).
      for (const i of parsed.issues) err.push(`  ${i.message}`);
      continue;
    }
    for (const dep of parsed.deprecations) err.push(`${label}: deprecated: ${dep}`);
    for (const w of parsed.warnings ?? []) err.push(`${label}: warning: ${w}`);
    const config = parsed.config;
    // As the machine function's infraNamespace(), with --namespace on top.
    const namespace = f.namespace || config.namespace || f.env.INFRA_NAMESPACE || f.env.POD_NAMESPACE || DEFAULT_INFRA_NAMESPACE;
    const hostname = m.spec?.name || m.name;
    const userdata =
      osmUserdata !== undefined
        ? userdataFromOsm(osmUserdata, hostname)
        : builtinCloudInit({ hostname, sshPublicKeys: config.sshPublicKeys, os: config.operatingSystem });
    const secretName = f.userdataSecret ?? `userdata-${m.name}`;
    const primaryAccessMode = config.vm.primaryDisk.storageAccessType ?? f.accessMode;
    let vm = buildVirtualMachine({
      machine: { name: m.name, namespace: m.namespace, labels: m.labels, annotations: m.annotations },
      config,
      namespace,
      machineDeploymentName: m.md,
      userdataSecretName: secretName,
      userdata,
      primaryAccessMode,
    });
    // The image cache, as the function applies it (functions/machine/provision.ts).
    const golden =
      (f.imageCache ?? imageCacheEnabled(f.env, false)) ? planGolden(config, namespace, primaryAccessMode, f.imageFacts) : undefined;
    if (golden?.kind === 'invalid') {
      code = 1;
      err.push(`${label}: ${golden.message}`);
      continue;
    }
    if (golden?.kind === 'none' && golden.reason) {
      err.push(
        `${label}: note: not cached: ${golden.reason} (the function caches a registry image whose digest its preflight learns; give it with --image-digest)`,
      );
    }
    if (golden?.kind === 'golden') {
      vm.spec.dataVolumeTemplates = cloneFromGolden(vm.spec.dataVolumeTemplates, { namespace, name: golden.name });
      // A registry golden is always named by its digest (the URL's, or --image-digest).
      if (golden.dataVolume.metadata.annotations[ANN_GOLDEN_CONTENT] === '{}') {
        err.push(
          `${label}: note: golden ${golden.name} is named without the image's content identity; the function names it from what its preflight learns (--image-etag, --image-last-modified, --image-length)`,
        );
      }
    }
    const owned = f.withOwnership ? ownershipLabels({ namespace: m.namespace, name: m.name, uid: 'render' }, config.clusterName) : {};
    if (f.withOwnership) vm = withOwnership(vm, owned);
    const secret = buildUserdataSecret({ name: secretName, namespace, userdata, labels: owned });
    if (!f.showSecrets) {
      secret.data = Object.fromEntries(Object.keys(secret.data).map((k) => [k, REDACTED]));
      redactIgnition(vm, userdata);
    }
    if (golden?.kind === 'golden') out.push(stringify(golden.dataVolume));
    out.push(stringify(vm), stringify(secret));
  }
  return { stdout: out.map((o) => `---\n${o}`).join(''), stderr: err.length ? err.join('\n') + '\n' : '', code };
}

/** Reads the input file, or stdin for none or `-`. */
function readInput(file: string | undefined): string {
  const source = !file || file === '-' ? 0 : file;
  try {
    return readFileSync(source, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${source === 0 ? 'stdin' : file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function renderCommand(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RENDER_USAGE);
    return 0;
  }
  let f: Flags;
  try {
    f = parseRenderArgs(argv, env);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${RENDER_USAGE}`);
    return 2;
  }
  try {
    const r = await render(readInput(f.file), f);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
