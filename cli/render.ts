/**
 * `kubevirt-machine-functions render [file|-]`: what the system would create for a Machine,
 * MachineSet or MachineDeployment — the VirtualMachine and the userdata Secret — as YAML, or the
 * validation errors (exit 1). Everything that would come from a cluster comes from flags.
 */
import { readFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { parseProviderSpec } from '../shared/spec/parse.js';
import { offlineResolver } from '../shared/spec/configvar.js';
import { buildVirtualMachine } from '../shared/vm/build-vm.js';
import { buildUserdataSecret, builtinCloudInit, userdataFromOsm } from '../shared/vm/userdata.js';
import { ownershipLabels, withOwnership } from '../shared/infra/ownership.js';
import { DEFAULT_INFRA_NAMESPACE } from '../shared/constants.js';

export const RENDER_USAGE = `Usage: kubevirt-machine-functions render [FILE|-] [flags]

Reads Machine, MachineSet or MachineDeployment YAML (file or stdin) and prints the objects the
machine function would create on the infra cluster, or the validation errors (exit code 1).

Flags (what would otherwise come from a cluster):
  --namespace NS             infra namespace for the VM           (default: the flat spec's
                             'namespace', else $POD_NAMESPACE, else ${DEFAULT_INFRA_NAMESPACE})
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
                             KUBEVIRT_KUBECONFIG, CLUSTER_ID, PROJECT_ID
  --with-ownership           add the ownership labels the function adds (machine uid 'render')
  --show-secrets             print Secret data (userdata) instead of '<redacted>'
`;

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
}

export class UsageError extends Error {}

export function parseRenderArgs(argv: string[], env: NodeJS.ProcessEnv): Flags {
  const f: Flags = { accessMode: 'ReadWriteOnce', secrets: {}, env: { ...env }, withOwnership: false, showSecrets: false };
  const take = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--namespace': f.namespace = take(i++, a); break;
      case '--machine-name': f.machineName = take(i++, a); break;
      case '--machine-deployment': f.machineDeployment = take(i++, a); break;
      case '--userdata-secret': f.userdataSecret = take(i++, a); break;
      case '--userdata': f.userdataFile = take(i++, a); break;
      case '--access-mode': f.accessMode = take(i++, a); break;
      case '--with-ownership': f.withOwnership = true; break;
      case '--show-secrets': f.showSecrets = true; break;
      case '--env': {
        const v = take(i++, a);
        const eq = v.indexOf('=');
        if (eq <= 0) throw new UsageError(`--env expects NAME=VALUE, got ${JSON.stringify(v)}`);
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
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
}

/** The Machine-shaped parts of an input object: its own for a Machine, the template's otherwise. */
function machineOf(obj: Input, f: Flags): { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string>; spec: any; md?: string } {
  const ns = obj.metadata?.namespace ?? 'default';
  if (obj.kind === 'Machine') {
    return { name: f.machineName ?? obj.metadata.name ?? 'machine', namespace: ns, labels: obj.metadata.labels, annotations: obj.metadata.annotations, spec: obj.spec ?? {}, md: f.machineDeployment };
  }
  if (obj.kind === 'MachineSet' || obj.kind === 'MachineDeployment') {
    const t = obj.spec?.template ?? {};
    return {
      name: f.machineName ?? `${obj.metadata?.name ?? 'machine'}-0`,
      namespace: ns,
      labels: t.metadata?.labels,
      annotations: t.metadata?.annotations,
      spec: t.spec ?? {},
      md: f.machineDeployment ?? (obj.kind === 'MachineDeployment' ? obj.metadata?.name : undefined),
    };
  }
  throw new UsageError(`unsupported kind ${JSON.stringify(obj.kind)}: expected Machine, MachineSet or MachineDeployment`);
}

export interface RenderResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Renders every document of `text`; pure apart from reading `--userdata`. */
export async function render(text: string, f: Flags): Promise<RenderResult> {
  const out: string[] = [];
  const err: string[] = [];
  let code = 0;
  const docs = parseAllDocuments(text);
  for (const d of docs) {
    if (d.errors.length) return { stdout: '', stderr: `invalid YAML: ${d.errors[0].message}\n`, code: 1 };
    const obj = d.toJS() as Input | null;
    if (!obj) continue;
    const m = machineOf(obj, f);
    const parsed = await parseProviderSpec(m.spec?.providerSpec?.value, offlineResolver(f.env, f.secrets));
    if (!parsed.ok) {
      code = 1;
      err.push(`${obj.kind} ${m.namespace}/${obj.metadata?.name}: invalid providerSpec:`);
      for (const i of parsed.issues) err.push(`  ${i.path || '(root)'}: ${i.message}`);
      continue;
    }
    for (const dep of parsed.deprecations) err.push(`${obj.kind} ${m.namespace}/${obj.metadata?.name}: deprecated: ${dep}`);
    const config = parsed.config;
    const namespace = f.namespace ?? config.namespace ?? f.env.POD_NAMESPACE ?? DEFAULT_INFRA_NAMESPACE;
    const userdata = f.userdataFile
      ? userdataFromOsm(readFileSync(f.userdataFile, 'utf8'), m.spec?.name || m.name)
      : builtinCloudInit({ hostname: m.spec?.name || m.name, sshPublicKeys: config.sshPublicKeys, os: config.operatingSystem });
    const secretName = f.userdataSecret ?? `userdata-${m.name}`;
    let vm = buildVirtualMachine({
      machine: { name: m.name, namespace: m.namespace, labels: m.labels, annotations: m.annotations },
      config,
      namespace,
      machineDeploymentName: m.md,
      userdataSecretName: secretName,
      userdata,
      primaryAccessMode: config.vm.primaryDisk.storageAccessType ?? f.accessMode,
    });
    const owned = f.withOwnership ? ownershipLabels({ namespace: m.namespace, name: m.name, uid: 'render' }, config.clusterName) : {};
    if (f.withOwnership) vm = withOwnership(vm, owned);
    const secret = buildUserdataSecret({ name: secretName, namespace, userdata, labels: owned });
    if (!f.showSecrets) secret.data = Object.fromEntries(Object.keys(secret.data).map((k) => [k, '<redacted>']));
    out.push(stringify(vm), stringify(secret));
  }
  return { stdout: out.length ? out.map((o) => `---\n${o}`).join('') : '', stderr: err.length ? err.join('\n') + '\n' : '', code };
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
  const text = !f.file || f.file === '-' ? readFileSync(0, 'utf8') : readFileSync(f.file, 'utf8');
  try {
    const r = await render(text, f);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.code;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
