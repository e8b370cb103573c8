/**
 * ApiServerSource, locally: Knative Eventing's own receive adapter
 * (knative.dev/eventing cmd/apiserver_receive_adapter, built by dev/upstream/build-adapter.sh)
 * as one process per ApiServerSource, configured the way the ApiServerSource controller
 * configures the adapter's Deployment (pkg/reconciler/apiserversource/resources/receive_adapter.go):
 *
 *   K_SOURCE_CONFIG   {namespaces, allNamespaces, resources[{gvr, selector}], owner, mode, filters, failFast}
 *   K_SINK            the sink's URL: our Broker ingress (`…/<namespace>/<broker>`) or the sink URI
 *   NAME, NAMESPACE   the source's name and namespace (NAMESPACE becomes the Kn-Namespace header)
 *   K_CE_OVERRIDES    spec.ceOverrides as JSON, when set
 *   K_LOGGING_CONFIG  Knative Eventing's default config-logging
 *   --kubeconfig      the source's ServiceAccount (or whatever credentials the bridge is given)
 *   --disable-ha      no leader election (one replica, no Lease RBAC needed)
 *
 * The adapter's CloudEvents reach our ingress like any other sender's. What we read back is its
 * log: client-go's reflector says `"Caches populated" … reflector="<gvr>[/<namespace>]"` (klog
 * -v=2) once its initial list is done and it watches; that is the readiness we wait for. Its
 * HTTP readiness probe is no such signal: it answers 200 before the first list, and its port
 * (:8080, `injection.HealthCheckDefaultPort`) cannot be moved (see README.md).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { LabelSelector, WatchedResource, ApiServerSourceSpec } from './manifests.js';

/** Adapter processes still running; one exit hook kills them all if we exit first. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** apimachinery's `meta.UnsafeGuessKindToResource`: lower-case plus a naive English plural. */
export function guessPlural(kind: string): string {
  const singular = kind.toLowerCase();
  if (singular === '') return '';
  if (singular.endsWith('endpoints')) return singular;
  if (singular.endsWith('s')) return `${singular}es`;
  if (singular.endsWith('y')) return `${singular.slice(0, -1)}ies`;
  return `${singular}s`;
}

/** `schema.GroupVersionResource` as encoding/json writes it (no JSON tags: Go field names). */
export interface Gvr {
  Group: string;
  Version: string;
  Resource: string;
}

/** `schema.ParseGroupVersion` + `UnsafeGuessKindToResource`, as the controller derives the GVR. */
export function gvrOf(r: Pick<WatchedResource, 'apiVersion' | 'kind'>): Gvr {
  const slash = r.apiVersion.indexOf('/');
  const [group, version] = slash < 0 ? ['', r.apiVersion] : [r.apiVersion.slice(0, slash), r.apiVersion.slice(slash + 1)];
  return { Group: group, Version: version, Resource: guessPlural(r.kind) };
}

/** `GroupVersionResource.String()`: the adapter's reflector name (plus `/<namespace>` per namespace). */
export function gvrString(g: Gvr): string {
  return `${g.Group}/${g.Version}, Resource=${g.Resource}`;
}

/**
 * `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key, values sorted;
 * undefined for no selector or an empty one (which selects everything).
 */
export function labelSelectorString(sel: LabelSelector | undefined): string | undefined {
  if (!sel) return undefined;
  const reqs: { key: string; text: string }[] = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => ({ key: k, text: `${k}=${v}` }));
  for (const e of sel.matchExpressions ?? []) {
    const values = [...new Set(e.values ?? [])].sort().join(',');
    const text = { In: `${e.key} in (${values})`, NotIn: `${e.key} notin (${values})`, Exists: e.key, DoesNotExist: `!${e.key}` }[
      e.operator
    ];
    if (text === undefined) throw new Error(`label selector operator "${e.operator}" is not one of In, NotIn, Exists, DoesNotExist`);
    reqs.push({ key: e.key, text });
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.length > 0 ? reqs.map((r) => r.text).join(',') : undefined;
}

/** Which namespaces the adapter watches: the controller's `namespacesFromSelector` + `isEmptySelector`. */
export interface WatchedNamespaces {
  namespaces: string[];
  allNamespaces: boolean;
}

/** The adapter's `K_SOURCE_CONFIG` (pkg/adapter/apiserver Config), keys in encoding/json's order. */
export function sourceConfig(spec: ApiServerSourceSpec, watched: WatchedNamespaces): Record<string, unknown> {
  return {
    namespaces: watched.namespaces,
    allNamespaces: watched.allNamespaces,
    resources: spec.resources.map((r) => {
      const selector = labelSelectorString(r.selector);
      return { gvr: gvrOf(r), ...(selector !== undefined ? { selector } : {}) };
    }),
    ...(spec.owner ? { owner: spec.owner } : {}),
    ...(spec.mode ? { mode: spec.mode } : {}),
    ...(spec.filters && spec.filters.length > 0 ? { filters: spec.filters } : {}),
    ...(spec.failFast ? { failFast: true } : {}),
  };
}

/** Knative Eventing's default config-logging (config/core/configmaps/logging.yaml), as K_LOGGING_CONFIG. */
const LOGGING_CONFIG = JSON.stringify({
  'zap-logger-config': JSON.stringify({
    level: 'info',
    development: false,
    outputPaths: ['stdout'],
    errorOutputPaths: ['stderr'],
    encoding: 'json',
    encoderConfig: {
      timeKey: 'ts',
      levelKey: 'level',
      nameKey: 'logger',
      callerKey: 'caller',
      messageKey: 'msg',
      stacktraceKey: 'stacktrace',
      timeEncoder: 'iso8601',
    },
  }),
  'loglevel.apiserversource': 'info',
});

/** The adapter's environment and arguments for one source. */
export function adapterInvocation(
  spec: ApiServerSourceSpec,
  watched: WatchedNamespaces,
  sinkUrl: string,
  kubeconfigFile: string,
): { args: string[]; env: Record<string, string> } {
  return {
    // -v=2: client-go's reflector logs "Caches populated" once it watches (our readiness signal).
    args: ['--kubeconfig', kubeconfigFile, '--disable-ha', '-v=2'],
    // As makeEnv writes it, plus K_LOGGING_CONFIG (what the controller passes from config-logging).
    // Not set, as the controller does not set them either: K_LEADER_ELECTION_CONFIG (defaults;
    // unused with --disable-ha), K_OBSERVABILITY_CONFIG (no metrics or tracing), K_SINK_TIMEOUT.
    env: {
      K_SINK: sinkUrl,
      K_SOURCE_CONFIG: JSON.stringify(sourceConfig(spec, watched)),
      SYSTEM_NAMESPACE: 'knative-eventing',
      NAMESPACE: spec.namespace,
      NAME: spec.name,
      METRICS_DOMAIN: 'knative.dev/eventing',
      K_LOGGING_CONFIG: LOGGING_CONFIG,
      ...(spec.ceOverrides ? { K_CE_OVERRIDES: JSON.stringify(spec.ceOverrides) } : {}),
      // The profiling server (off, but listening) defaults to :8008; any free port instead, so
      // several adapters on one host do not clash. The probe port (:8080) has no such setting.
      PROFILING_PORT: '0',
    },
  };
}

/**
 * The reflector names that must report "Caches populated" before a resource is watched: the bare
 * GVR (a cluster-scoped kind, or all namespaces), or else one per watched namespace.
 */
export function expectedReflectors(spec: ApiServerSourceSpec, watched: WatchedNamespaces): { gvr: string; perNamespace?: string[] }[] {
  return spec.resources.map((r) => {
    const gvr = gvrString(gvrOf(r));
    return watched.allNamespaces ? { gvr } : { gvr, perNamespace: watched.namespaces.map((ns) => `${gvr}/${ns}`) };
  });
}

export interface AdapterStats {
  source: string;
  serviceAccountName: string;
  pid?: number;
  /** Times the process exited on its own and was started again. */
  restarts: number;
  /** Reflectors that have listed and watch (in the current process). */
  watching: string[];
  /** Resources the adapter skipped because the API server does not serve them. */
  missing: string[];
  ready: boolean;
}

export interface RunningAdapter {
  /** Resolves once every resource's reflector watches (the first time). */
  ready: Promise<void>;
  stats(): AdapterStats;
  /** The adapter's recent log lines (its zap JSON and klog text). */
  logs: string[];
  stop(): Promise<void>;
}

export interface AdapterOptions {
  binary: string;
  spec: ApiServerSourceSpec;
  watched: WatchedNamespaces;
  sinkUrl: string;
  kubeconfigFile: string;
  log: (line: string) => void;
  /** Restart backoff after an unexpected exit: initial and maximum ms (default 1 s → 30 s). */
  restartBackoff?: { initialMs: number; maxMs: number };
}

/** Adapter log messages that are expected noise locally. */
const QUIET = [/^Sink timeout configuration is invalid/];
const KLOG = /^([IWEF])\d{4} [\d:.]+\s+\d+ [^\]]+\] (.*)$/;

/** Starts (and keeps running, restarting it with backoff when it exits) one source's adapter. */
export function startAdapter(o: AdapterOptions): RunningAdapter {
  const source = `${o.spec.namespace}/${o.spec.name}`;
  const { args, env } = adapterInvocation(o.spec, o.watched, o.sinkUrl, o.kubeconfigFile);
  const expected = expectedReflectors(o.spec, o.watched);
  const logs: string[] = [];
  let watching = new Set<string>();
  let missing = new Set<string>();
  let restarts = 0;
  let child: ChildProcess | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoff = o.restartBackoff?.initialMs ?? 1000;
  let markReady!: () => void;
  let isReady = false;
  const ready = new Promise<void>((r) => (markReady = r));
  const say = (line: string) => o.log(`adapter ${source}: ${line}`);

  const checkReady = () => {
    const watched = (e: (typeof expected)[number]) => watching.has(e.gvr) || (e.perNamespace?.every((n) => watching.has(n)) ?? false);
    if (!isReady && expected.every(watched)) {
      isReady = true;
      markReady();
    }
  };

  const onLine = (line: string) => {
    if (line === '') return;
    logs.push(line);
    if (logs.length > 500) logs.splice(0, logs.length - 500);
    const k = KLOG.exec(line);
    if (k) {
      const [, severity, msg] = k;
      const populated = /^"Caches populated".* reflector="([^"]+)"/.exec(msg!);
      if (populated) {
        watching.add(populated[1]!);
        checkReady();
      } else if ((severity === 'E' || severity === 'W' || severity === 'F') && !stopping) {
        say(msg!);
      }
      return;
    }
    let rec: { level?: string; severity?: string; msg?: string; message?: string } | undefined;
    try {
      rec = JSON.parse(line);
    } catch {
      // a panic or another unstructured line: kept in `logs`, printed if the process dies
    }
    if (!rec || typeof rec !== 'object') return;
    const level = String(rec.level ?? rec.severity ?? '').toLowerCase();
    const msg = String(rec.msg ?? rec.message ?? '');
    const gone = /could not retrieve information about resource (\S+): it doesn't exist/.exec(msg);
    if (gone) missing.add(gone[1]!);
    if (['warn', 'warning', 'error', 'dpanic', 'panic', 'fatal'].includes(level) && !QUIET.some((q) => q.test(msg)) && !stopping) {
      const fields = rec as Record<string, unknown>;
      const detail = ['error', 'subject', 'id'].filter((f) => fields[f] !== undefined).map((f) => `${f}=${String(fields[f])}`);
      say(`${level}: ${msg}${detail.length ? ` (${detail.join(', ')})` : ''}`);
    }
  };

  const lines = (stream: NodeJS.ReadableStream) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      buf += s;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
  };

  const run = () => {
    watching = new Set();
    missing = new Set();
    const c = spawn(o.binary, args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    live.add(c);
    lines(c.stdout!);
    lines(c.stderr!);
    const startedAt = Date.now();
    checkReady(); // nothing to watch (a namespaceSelector matching no namespace) is ready at once
    c.once('error', (e) => say(`could not start ${o.binary}: ${e.message}`));
    c.once('exit', (code, signal) => {
      live.delete(c);
      if (stopping) return;
      // A run that lasted is not a crash loop: start the backoff over.
      if (Date.now() - startedAt > 60_000) backoff = o.restartBackoff?.initialMs ?? 1000;
      say(`exited (${signal ?? `code ${code}`}); restarting in ${backoff} ms. Last lines:\n    ${logs.slice(-8).join('\n    ')}`);
      restartTimer = setTimeout(() => {
        restarts++;
        run();
      }, backoff);
      restartTimer.unref();
      backoff = Math.min(backoff * 2, o.restartBackoff?.maxMs ?? 30_000);
    });
  };
  run();

  return {
    ready,
    logs,
    stats: () => ({
      source,
      serviceAccountName: o.spec.serviceAccountName,
      pid: child?.exitCode === null ? child.pid : undefined,
      restarts,
      watching: [...watching].sort(),
      missing: [...missing].sort(),
      ready: isReady,
    }),
    stop: () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      return new Promise<void>((resolve) => {
        if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
        setTimeout(() => c.kill('SIGKILL'), 3000).unref();
      });
    },
  };
}
