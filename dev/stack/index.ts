/**
 * The whole system on one machine: (embedded) control plane and CRDs, every function server
 * under its own ServiceAccount from knative/, Knative's ApiServerSource receive adapter for each
 * of knative/'s sources under the source's ServiceAccount, the event bridge routing as knative/'s
 * Triggers do, the KubeVirt/CDI simulator, and a loopback image server. `npm start` and the end-to-end
 * tests run this.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { KubeClient } from '../../shared/kube/rest.js';
import { connectionFromKubeconfig } from '../../shared/kube/kubeconfig.js';
import { EMBEDDED_ALLOW_CIDRS } from '../../shared/preflight/index.js';
import { startBridge, type Bridge, type SourceIdentity } from '../bridge/index.js';
import { startSimulator, type Simulator, type SimulatorTimings } from '../simulator/index.js';
import { superviseFunction, ensureBundles, type RestartBackoff, type SupervisedFunction } from './functions.js';
import { startImageServer, rawDisk, type ImageServer } from './image-server.js';
import { startRegistryServer, type RegistryServer } from './registry-server.js';
import { applyRbac, readManifests, serviceAccountKubeconfig } from './rbac.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FUNCTIONS_NAMESPACE = 'kubevirt-machine-functions';
export const INFRA_NAMESPACE = 'kube-system';
/** Function name → its ServiceAccount in knative/. */
const SERVICE_ACCOUNTS: Record<string, string> = {
  machine: 'machine-function',
  datavolume: 'datavolume-function',
  vmi: 'vmi-function',
  machineset: 'machineset-function',
  machinedeployment: 'machinedeployment-function',
  node: 'node-function',
  resync: 'resync-function',
};

export interface StackOptions {
  /** Admin kubeconfig text of the cluster to use. */
  kubeconfig: string;
  /** Run the KubeVirt/CDI simulator (default true). */
  simulate?: boolean;
  simulatorTimings?: Partial<SimulatorTimings>;
  /** Only these functions (default: all in knative/). */
  functions?: string[];
  /** Use the functions' ServiceAccounts from knative/ (default true); false → the admin kubeconfig. */
  serviceAccounts?: boolean;
  imagePort?: number;
  pingIntervalMs?: number;
  backoffScale?: number;
  /** Follow-up events go here instead of the bridge's Broker ingress (tests record them). */
  sinkUrl?: string;
  /** Extra env for every function (e.g. DV_MAX_RESTARTS). */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /**
   * Function log lines (JSON); default: dropped, or with KMF_STACK_LOG_DIR set, appended to
   * `<dir>/<function>.log` and the stack's own lines to `<dir>/stack.log` (for a failing test's story).
   */
  onFunctionLog?: (fn: string, line: string) => void;
  /** Restart delays of a function process that died (default: 0.5 s doubling to 10 s, reset after 30 s up). */
  restartBackoff?: Partial<RestartBackoff>;
}

export interface Stack {
  admin: KubeClient;
  /** Supervised: a function process that dies is started again on its port (see superviseFunction). */
  functions: Record<string, SupervisedFunction>;
  bridge?: Bridge;
  simulator?: Simulator;
  images: ImageServer;
  imageUrl: string;
  /** The stand-in registry (plain http, listed in INSECURE_REGISTRIES): manifests only, imports are simulated. */
  registry: RegistryServer;
  /** `docker://127.0.0.1:<port>/containerdisks/ubuntu:22.04` on it. */
  registryImageUrl: string;
  /**
   * Stops the bridge first (no more deliveries), then simulator, functions, image server; no
   * function is restarted from the moment it is called.
   */
  stop(): Promise<void>;
  /** Stop / start one function server on purpose (fault injection in tests). */
  restartFunction(name: string, downMs?: number): Promise<void>;
  stopBridge(): Promise<void>;
  startBridge(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const opts = withLogDir(options, process.env.KMF_STACK_LOG_DIR);
  const log = opts.log ?? (() => {});
  const admin = new KubeClient(connectionFromKubeconfig(opts.kubeconfig));
  const manifests = readManifests(path.join(root, 'knative'));
  const dir = mkdtempSync(path.join(tmpdir(), 'kmf-stack-'));
  const names = opts.functions ?? Object.keys(SERVICE_ACCOUNTS);
  const useSa = opts.serviceAccounts ?? true;

  await ensureBundles();
  if (useSa) log(`applied ${await applyRbac(admin, manifests)} RBAC objects from knative/`);
  const kubeconfigFor = async (fn: string): Promise<string> => {
    const file = path.join(dir, `${fn}.kubeconfig`);
    const text = useSa
      ? await serviceAccountKubeconfig(admin, opts.kubeconfig, FUNCTIONS_NAMESPACE, SERVICE_ACCOUNTS[fn])
      : opts.kubeconfig;
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };

  let images: ImageServer;
  try {
    images = await startImageServer(new Map([['ubuntu-22.04.img', rawDisk(1024 * 1024)]]), opts.imagePort ?? 8480);
  } catch {
    images = await startImageServer(new Map([['ubuntu-22.04.img', rawDisk(1024 * 1024)]]), 0);
  }

  // A registry image's golden is keyed by its manifest digest, which the machine function asks
  // this stand-in for; CDI's import of it is simulated.
  const registry = await startRegistryServer();
  registry.push('containerdisks/ubuntu', '22.04');

  // The bridge's ingress URL is every function's K_SINK, so it starts first (deliveries to a
  // function not yet listening are retried like any other failure).
  const urls: Record<string, string> = {};
  const ports: Record<string, number> = {};
  const { freePort } = await import('./functions.js');
  for (const n of names) {
    ports[n] = await freePort();
    urls[n] = `http://127.0.0.1:${ports[n]}/`;
  }
  let bridge: Bridge | undefined;
  const bridgeOpts = {
    kubeconfig: opts.kubeconfig,
    // Each ApiServerSource's adapter as the source's own ServiceAccount, as its Deployment runs.
    sourceKubeconfig: useSa
      ? (s: SourceIdentity) => serviceAccountKubeconfig(admin, opts.kubeconfig, s.namespace, s.serviceAccountName)
      : undefined,
    manifests: withoutTriggersFor(manifests, names),
    subscribers: urls,
    log: (l: string) => log(`bridge: ${l}`),
    pingIntervalMs: opts.pingIntervalMs ?? 30_000,
    backoffScale: opts.backoffScale ?? 1,
    strictAdmission: false,
  };
  bridge = await startBridge(bridgeOpts);
  const sink = opts.sinkUrl ?? bridge.ingressUrl;
  const ingressUrl = bridge.ingressUrl;

  const envs: Record<string, Record<string, string>> = {};
  const functions: Record<string, SupervisedFunction> = {};
  for (const n of names) {
    envs[n] = {
      KUBECONFIG: await kubeconfigFor(n),
      K_SINK: sink,
      INFRA_NAMESPACE,
      POD_NAMESPACE: FUNCTIONS_NAMESPACE,
      // Embedded mode: images served on this machine are fine; link-local/metadata stay refused.
      IMAGE_PREFLIGHT_ALLOW_CIDRS: EMBEDDED_ALLOW_CIDRS,
      INSECURE_REGISTRIES: registry.host,
      ...(opts.env ?? {}),
    };
    functions[n] = await superviseFunction(n, envs[n], {
      port: ports[n],
      log,
      onLine: opts.onFunctionLog ? (l) => opts.onFunctionLog!(n, l) : undefined,
      backoff: opts.restartBackoff,
    });
  }
  log(`functions: ${names.map((n) => `${n} ${urls[n]}`).join(', ')}`);

  let simulator: Simulator | undefined;
  if (opts.simulate ?? true) {
    // CDI's importer writes each http import's disk under the stack's temporary directory.
    simulator = await startSimulator({
      kubeconfig: opts.kubeconfig,
      timings: opts.simulatorTimings,
      workDir: dir,
      // The guests' kubelets register Nodes, which the node function links to their Machines.
      kubelet: {},
      log: (l) => log(`simulator: ${l}`),
    });
  }

  const stack: Stack = {
    admin,
    functions,
    bridge,
    simulator,
    images,
    imageUrl: images.url('ubuntu-22.04.img'),
    registry,
    registryImageUrl: registry.url('containerdisks/ubuntu:22.04'),
    async stop() {
      for (const f of Object.values(functions)) f.stopRestarting();
      await bridge?.stop();
      bridge = undefined;
      await simulator?.stop();
      await Promise.all(Object.values(functions).map((f) => f.stop()));
      await images.close();
      await registry.close();
      admin.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async restartFunction(name, downMs = 0) {
      await functions[name].restart(downMs);
    },
    async stopBridge() {
      await bridge?.stop();
      bridge = undefined;
      stack.bridge = undefined;
    },
    async startBridge() {
      bridge = await startBridge({ ...bridgeOpts, ingressPort: Number(new URL(ingressUrl).port) });
      stack.bridge = bridge;
    },
  };
  return stack;
}

/** Drops the Triggers of functions this stack does not run (a subset, in tests). */
function withoutTriggersFor(manifests: string[], running: string[]): string[] {
  return manifests.map((text) =>
    parseAllDocuments(text)
      .map((d) => d.toJS())
      .filter(
        (o) => !(o?.kind === 'Trigger' && o.spec?.subscriber?.ref?.kind === 'Service' && !running.includes(o.spec.subscriber.ref.name)),
      )
      .filter(Boolean)
      .map((o) => stringify(o))
      .join('---\n'),
  );
}

/** The README's example with its image URL pointed at the stack's image server. */
export function exampleManifest(imageUrl: string): string {
  return readFileSync(path.join(root, 'examples', 'kubevirt-machinedeployment.yaml'), 'utf8').replace(
    /http:\/\/127\.0\.0\.1:8480\/ubuntu-22\.04\.img/g,
    imageUrl,
  );
}

/** KMF_STACK_LOG_DIR: what the caller does not collect itself goes to files there. */
function withLogDir(opts: StackOptions, dir: string | undefined): StackOptions {
  if (!dir) return opts;
  mkdirSync(dir, { recursive: true });
  const to = (file: string) => (line: string) => appendFileSync(path.join(dir, file), `${line}\n`);
  const stack = to('stack.log');
  return {
    ...opts,
    log: opts.log ?? ((l) => stack(`${new Date().toISOString()} ${l}`)),
    onFunctionLog: opts.onFunctionLog ?? ((fn, l) => to(`${fn}.log`)(l)),
  };
}
