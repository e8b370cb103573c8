/**
 * A real, throwaway Kubernetes control plane for tests and `npm run cluster -- start`:
 * etcd, kube-apiserver and kube-controller-manager on loopback, free ports, one temp dir.
 *
 * What it gives beyond envtest: kube-controller-manager runs the garbage collector,
 * namespace, serviceaccount and serviceaccount-token controllers, so ownerReference
 * cascades, namespace deletion and default ServiceAccounts behave as in a real cluster.
 * KubeVirt's and CDI's own admission webhooks (kubevirt-admission, dev/upstream) validate every
 * VirtualMachine, VMI and DataVolume written, and default VMs, as virt-api and cdi-apiserver do.
 * No scheduler and no kubelet: Pods stay Pending.
 *
 * Choices:
 * - The ServiceAccount admission plugin stays ENABLED (envtest disables it): the
 *   serviceaccount controller creates each namespace's `default` ServiceAccount, so Pods
 *   behave as in a real cluster. A Pod created in the first milliseconds of a fresh
 *   namespace can still be refused; freshNamespace() can wait for the ServiceAccount.
 * - --advertise-address only when the host has no default route (the apiserver derives
 *   it from that route and refuses loopback).
 * - One CA signs the serving certs and the client certs; the apiserver trusts it for client
 *   auth and the controller-manager publishes it as the root CA; the webhook configurations
 *   name it as the webhook's caBundle.
 * - kubevirt-admission starts with etcd (its admin kubeconfig is written before the apiserver
 *   runs; it contacts the apiserver only when a request needs a lookup), so its own start-up is
 *   off the critical path; it is registered once its /healthz answers, and start returns only
 *   after dry-run requests show the apiserver enforcing both configurations.
 */
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBinaries } from './binaries.js';
import { ensureAdmissionWebhook, ADMISSION_PATHS } from '../upstream/admission.js';
import { admissionEnforced, createCdiConfig, registerAdmission } from './admission.js';
import { installCrds } from './crds.js';
import { track } from './exit-hooks.js';
import type { Connection } from '../../shared/kube/kubeconfig.js';
import { KubeClient } from '../../shared/kube/rest.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { freePort, hasDefaultRoute, hostIPv4 } from './network.js';
import { createPki } from './pki.js';
import { logTail, signalGroup, spawnComponent, spawnWatchdog, stopComponent, type Component } from './processes.js';

export interface ControlPlaneOptions {
  /** Directory with etcd, kube-apiserver, kube-controller-manager; default: build.sh's answer. */
  binDir?: string;
  /**
   * CRD files to install after the apiserver is ready and BEFORE the controller-manager
   * starts, so the garbage collector sees them at its first discovery instead of at its
   * 30 s resync (an ownerReference to a CR would otherwise not cascade for up to 30 s).
   */
  crdFiles?: string[];
  /**
   * Run KubeVirt's and CDI's admission webhooks (kubevirt-admission) and register them; default
   * true. Off only for special cases: without it nothing validates VMs and DataVolumes beyond
   * their CRD schemas.
   */
  admission?: boolean;
  /** The kubevirt-admission binary; default: build-admission.sh's answer. */
  admissionBinary?: string;
  /** Per-component readiness timeout; default 120 s (2 cores, cold page cache). */
  startTimeoutMs?: number;
  /** Stop on SIGINT/SIGTERM and then exit the process (default true). */
  handleSignals?: boolean;
  /** Keep the temp dir (logs, certs, etcd data) after stop; default: env KMF_KEEP_CLUSTER_DIR=1. */
  keepDir?: boolean;
  /**
   * Extra flags appended per component, e.g. `{ apiserver: ['--feature-gates=…'] }`. A
   * repeated scalar flag overrides ours; a repeated list flag (e.g. --controllers) appends.
   */
  extraArgs?: { etcd?: string[]; apiserver?: string[]; controllerManager?: string[]; admission?: string[] };
  /** Progress lines; default silent. */
  log?: (line: string) => void;
}

/** Milliseconds from startControlPlane() to each component being ready. */
export interface StartTimings {
  pkiMs: number;
  etcdMs: number;
  apiserverMs: number;
  crdsMs: number;
  controllerManagerMs: number;
  /** kubevirt-admission: from its launch (with etcd) until the apiserver enforces it; 0 when off. */
  admissionMs: number;
  totalMs: number;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** The temp dir: certs, kubeconfigs, logs/, etcd/, pids. */
  dir: string;
  /** Admin kubeconfig (CN=admin, O=system:masters) with embedded credentials. */
  kubeconfigPath: string;
  kubeconfig: string;
  /** PEM of the CA that signed the serving cert. */
  caPem: string;
  /** Component name → PID (also in `<dir>/pids`). */
  pids: Record<string, number>;
  /** Component name → log file. */
  logFiles: Record<string, string>;
  timings: StartTimings;
  /** Names of the CRDs installed during start. */
  crds: string[];
  /** The admission webhook's base URL (https://127.0.0.1:<port>), when it runs. */
  admissionUrl?: string;
  /**
   * A kubeconfig authenticating as ServiceAccount `namespace/serviceAccount` with a token
   * from the TokenRequest API (the ServiceAccount must exist).
   */
  tokenKubeconfig(serviceAccount: string, namespace: string, opts?: { expirationSeconds?: number }): Promise<string>;
  /** Current resident memory per component in KiB (VmRSS), plus `total`. */
  rssKiB(): Record<string, number>;
  /** Stops controller-manager, admission webhook and apiserver, then etcd; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
];

/**
 * Polls `probe` every `intervalMs` until it returns true; throws with the last error or
 * `what` after `timeoutMs`. `abort` lets a dead component end the wait at once.
 */
async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  { timeoutMs, intervalMs = 100, abort }: { timeoutMs: number; intervalMs?: number; abort?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reason = abort?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await probe()) return;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms${last ? ` (last error: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Runs `fn` with a KubeClient closed afterwards. The control plane's own requests (probes,
 * CRDs, TokenRequests) use short-lived clients, so no keep-alive socket outlives them.
 */
async function withClient<T>(conn: Connection, timeoutMs: number, fn: (kube: KubeClient) => Promise<T>): Promise<T> {
  const kube = new KubeClient(conn, timeoutMs);
  try {
    return await fn(kube);
  } finally {
    kube.close();
  }
}

/** GET `path`; true when it answers 200 (and its body includes `expect`, when given). */
async function answers200(kube: KubeClient, path: string, expect?: string): Promise<boolean> {
  const res = await kube.send('GET', path);
  return res.status === 200 && (expect === undefined || res.text.includes(expect));
}

function readRssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = performance.now();
  const since = (): number => Math.round(performance.now() - t0);
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.startTimeoutMs ?? 120_000;
  const keepDir = opts.keepDir ?? process.env.KMF_KEEP_CLUSTER_DIR === '1';
  const binDir = opts.binDir ?? ensureBinaries();
  const bin = (name: string): string => path.join(binDir, name);
  const admission = opts.admission ?? true;
  const admissionBinary = admission ? (opts.admissionBinary ?? ensureAdmissionWebhook()) : undefined;

  const dir = await mkdtemp(path.join(os.tmpdir(), 'kmf-cluster-'));
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir);

  const components: Component[] = [];
  const watchdog = spawnWatchdog(dir);
  // The watchdog is spawned detached (its own process group): kill the group, so its `sleep`
  // child does not outlive us.
  const killWatchdog = (): void => {
    try {
      if (watchdog.pid) process.kill(-watchdog.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  let stopPromise: Promise<void> | undefined;
  let untrack = (): void => {};

  const killNow = (): void => {
    for (const c of components) signalGroup(c.pid, 'SIGKILL');
    killWatchdog();
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
  };
  const stop = (): Promise<void> => {
    stopPromise ??= (async () => {
      const byName = (n: string): Component | undefined => components.find((c) => c.name === n);
      // Clients of etcd first, so the apiserver does not spend its shutdown retrying etcd.
      await Promise.all(
        ['kube-controller-manager', 'kubevirt-admission', 'kube-apiserver']
          .map((n) => byName(n))
          .filter((c) => c !== undefined)
          .map((c) => stopComponent(c)),
      );
      const etcd = byName('etcd');
      if (etcd) await stopComponent(etcd);
      killWatchdog();
      if (!keepDir) await rm(dir, { recursive: true, force: true });
      untrack();
    })();
    return stopPromise;
  };
  untrack = track({ killNow, stop }, opts.handleSignals ?? true);

  const launch = (name: string, args: string[], binary = bin(name)): Component => {
    const c = spawnComponent(name, binary, args, logDir);
    components.push(c);
    appendFileSync(path.join(dir, 'pids'), `${name} ${c.pid}\n`);
    return c;
  };
  const deadComponent = (): string | undefined => {
    const c = components.find((x) => x.exitStatus !== undefined);
    return c ? `${c.name} exited (${c.exitStatus})` : undefined;
  };

  const timings: StartTimings = { pkiMs: 0, etcdMs: 0, apiserverMs: 0, crdsMs: 0, controllerManagerMs: 0, admissionMs: 0, totalMs: 0 };
  try {
    const pki = await createPki(dir);
    timings.pkiMs = since();
    const [etcdPort, peerPort, apiPort, admissionPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const server = `https://127.0.0.1:${apiPort}`;
    // The throwaway PKI's admin identity (system:masters), before any kubeconfig exists.
    const admin: Connection = { server, ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
    const kubeconfig = kubeconfigYaml(server, pki.ca.certPem, 'admin', {
      clientCertPem: pki.admin.certPem,
      clientKeyPem: pki.admin.keyPem,
    });
    const kubeconfigPath = path.join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });

    // --- etcd
    let stageStart = performance.now();
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    launch('etcd', [
      '--name=kmf',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=kmf=${peerUrl}`,
      // Test data is disposable; fsync dominates etcd latency on slow disks.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
      // One member on loopback: electing itself after 100 ms instead of the default 1 s
      // cuts etcd's start from 0.2–1 s to ~0.12 s (measured); no extra CPU.
      '--heartbeat-interval=10',
      '--election-timeout=100',
      ...(opts.extraArgs?.etcd ?? []),
    ]);
    log('etcd starting');

    // --- kubevirt-admission (ready by the time the CRDs are in; see the header)
    const admissionUrl = admissionBinary ? `https://127.0.0.1:${admissionPort}` : undefined;
    let admissionHealthy: Promise<void> | undefined;
    const admissionLaunchedAt = since();
    if (admissionBinary && admissionUrl) {
      launch(
        'kubevirt-admission',
        [
          'webhook',
          `--listen=127.0.0.1:${admissionPort}`,
          `--cert=${pki.admissionWebhook.certFile}`,
          `--key=${pki.admissionWebhook.keyFile}`,
          `--kubeconfig=${kubeconfigPath}`,
          ...(opts.extraArgs?.admission ?? []),
        ],
        admissionBinary,
      );
      log('kubevirt-admission starting');
      admissionHealthy = withClient({ server: admissionUrl, ca: pki.ca.certPem }, 2000, (webhook) =>
        waitFor('kubevirt-admission /healthz', () => answers200(webhook, ADMISSION_PATHS.health, 'ok'), {
          timeoutMs,
          abort: deadComponent,
        }),
      );
      admissionHealthy.catch(() => {}); // awaited below; a failure before then must not be unhandled
    }
    // etcd's /health is plain HTTP JSON: the same client serves, without credentials.
    await withClient({ server: etcdUrl }, 2000, (etcd) =>
      waitFor('etcd /health', () => answers200(etcd, '/health', '"health":"true"'), { timeoutMs, abort: deadComponent }),
    );
    timings.etcdMs = Math.round(performance.now() - stageStart);
    log(`etcd ready in ${timings.etcdMs} ms`);

    // --- kube-apiserver
    stageStart = performance.now();
    const advertise = hasDefaultRoute() ? [] : hostIPv4() ? [`--advertise-address=${hostIPv4()}`] : [];
    launch('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serving.certFile}`,
      `--tls-private-key-file=${pki.serving.keyFile}`,
      `--client-ca-file=${pki.ca.certFile}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${pki.saPublicKeyFile}`,
      `--service-account-signing-key-file=${pki.saPrivateKeyFile}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      '--profiling=false',
      ...advertise,
      ...(opts.extraArgs?.apiserver ?? []),
    ]);
    log('kube-apiserver starting');
    await withClient(admin, 5000, async (kube) => {
      await waitFor('kube-apiserver /readyz', () => answers200(kube, '/readyz'), { timeoutMs, abort: deadComponent });
      // /readyz can pass a moment before the bootstrap controller has created `default`.
      await waitFor('namespace default', () => answers200(kube, '/api/v1/namespaces/default'), { timeoutMs, abort: deadComponent });
    });
    timings.apiserverMs = Math.round(performance.now() - stageStart);
    log(`kube-apiserver ready in ${timings.apiserverMs} ms at ${server}`);

    // Registered as soon as the webhook answers, while the CRDs install.
    let admissionRegistered: Promise<void> | undefined;
    if (admissionHealthy && admissionUrl) {
      admissionRegistered = admissionHealthy.then(async () => {
        log(`kubevirt-admission healthy ${since() - admissionLaunchedAt} ms after its launch`);
        await withClient(admin, 10_000, (kube) => registerAdmission(kube, admissionUrl, pki.ca.certPem));
      });
      admissionRegistered.catch(() => {}); // awaited below
    }

    // --- CRDs (before the controller-manager: see ControlPlaneOptions.crdFiles)
    let crds: string[] = [];
    if (opts.crdFiles && opts.crdFiles.length > 0) {
      stageStart = performance.now();
      const files = opts.crdFiles;
      crds = await withClient(admin, 30_000, (kube) => installCrds(kube, files, { timeoutMs }));
      timings.crdsMs = Math.round(performance.now() - stageStart);
      log(`${crds.length} CRDs established in ${timings.crdsMs} ms`);
    }

    // --- kube-controller-manager
    stageStart = performance.now();
    // With --use-service-account-credentials=false every controller acts as this one
    // identity. The bootstrap role system:kube-controller-manager alone cannot delete
    // arbitrary objects (real clusters give that to per-controller ServiceAccounts), so
    // the identity is also in system:masters; its CN keeps its requests recognisable.
    const kcmKubeconfigPath = path.join(dir, 'kube-controller-manager.kubeconfig');
    await writeFile(
      kcmKubeconfigPath,
      kubeconfigYaml(server, pki.ca.certPem, 'system:kube-controller-manager', {
        clientCertPem: pki.controllerManager.certPem,
        clientKeyPem: pki.controllerManager.keyPem,
      }),
      { mode: 0o600 },
    );
    launch('kube-controller-manager', [
      `--kubeconfig=${kcmKubeconfigPath}`,
      `--controllers=${CONTROLLERS.join(',')}`,
      '--leader-elect=false',
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${pki.saPrivateKeyFile}`,
      `--root-ca-file=${pki.ca.certFile}`,
      // No serving endpoint: nothing scrapes it, and the default port 10257 would clash
      // between parallel runs.
      '--secure-port=0',
      '--profiling=false',
      ...(opts.extraArgs?.controllerManager ?? []),
    ]);
    log('kube-controller-manager starting');
    // The serviceaccount controller creating default/default proves the controller-manager
    // is connected and its informers have synced.
    const controllerManagerReady = withClient(admin, 5000, (kube) =>
      waitFor(
        'kube-controller-manager (ServiceAccount default/default)',
        () => answers200(kube, '/api/v1/namespaces/default/serviceaccounts/default'),
        { timeoutMs, abort: deadComponent },
      ),
    ).then(() => {
      timings.controllerManagerMs = Math.round(performance.now() - stageStart);
    });
    // Meanwhile: the apiserver enforcing the webhook (probed in namespace default).
    const admissionReady = admissionRegistered?.then(async () => {
      const kinds = { vm: crds.includes('virtualmachines.kubevirt.io'), dataVolume: crds.includes('datavolumes.cdi.kubevirt.io') };
      if (crds.includes('cdiconfigs.cdi.kubevirt.io')) await withClient(admin, 10_000, (kube) => createCdiConfig(kube));
      if (kinds.vm || kinds.dataVolume) {
        await withClient(admin, 10_000, (kube) =>
          waitFor('kubevirt-admission enforced by kube-apiserver', () => admissionEnforced(kube, 'default', kinds), {
            timeoutMs,
            intervalMs: 50,
            abort: deadComponent,
          }),
        );
      }
      timings.admissionMs = since() - admissionLaunchedAt;
      log(`kubevirt-admission enforced ${timings.admissionMs} ms after its launch, at ${admissionUrl}`);
    });
    await Promise.all([controllerManagerReady, admissionReady]);
    timings.totalMs = since();
    log(`kube-controller-manager ready in ${timings.controllerManagerMs} ms; control plane ready in ${timings.totalMs} ms`);

    const pids = Object.fromEntries(components.map((c) => [c.name, c.pid]));
    return {
      server,
      dir,
      kubeconfigPath,
      kubeconfig,
      caPem: pki.ca.certPem,
      pids,
      logFiles: Object.fromEntries(components.map((c) => [c.name, c.logFile])),
      timings,
      crds,
      admissionUrl,
      async tokenKubeconfig(serviceAccount, namespace, { expirationSeconds = 3600 } = {}) {
        const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
        const res = await withClient(admin, 5000, (kube) =>
          kube.send('POST', path, {
            body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } },
          }),
        );
        if (res.status !== 201) throw new Error(`TokenRequest for ${namespace}/${serviceAccount}: HTTP ${res.status} ${res.text}`);
        const token = (res.body as { status: { token: string } }).status.token;
        return kubeconfigYaml(server, pki.ca.certPem, `system:serviceaccount:${namespace}:${serviceAccount}`, { token }, namespace);
      },
      rssKiB() {
        const out: Record<string, number> = {};
        for (const c of components) out[c.name] = readRssKiB(c.pid);
        out.total = Object.values(out).reduce((a, b) => a + b, 0);
        return out;
      },
      stop,
    };
  } catch (e) {
    const tails = components.map((c) => `--- ${c.name} (last lines of ${c.logFile}) ---\n${logTail(c.logFile)}`).join('\n');
    await stop();
    const msg = e instanceof Error ? e.message : String(e);
    const kept = keepDir ? `(kept ${dir})` : '(temp dir removed; KMF_KEEP_CLUSTER_DIR=1 keeps it)';
    throw new Error(`control plane failed to start after ${since()} ms: ${msg}\n${tails}\n${kept}`, { cause: e });
  }
}
