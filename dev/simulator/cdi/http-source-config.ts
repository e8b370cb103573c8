/**
 * What the importer pod of an `http` source gets from the DataVolume spec (CDI's
 * import-controller makeImporterPodSpec): basic auth from `secretRef` (keys accessKeyId /
 * secretKey as IMPORTER_ACCESS_KEY_ID / IMPORTER_SECRET_KEY), `extraHeaders` as
 * IMPORTER_EXTRA_HEADER_<n> variables, `secretExtraHeaders` Secrets mounted as files (every
 * value one header line; handed to our importer as further IMPORTER_EXTRA_HEADER_<n>, which
 * CDI's importer appends the same way), the `certConfigMap` mounted at IMPORTER_CERT_DIR.
 *
 * A missing Secret or ConfigMap keeps the pod from starting, as on a real node: a missing env
 * Secret → container waiting `CreateContainerConfigError` (`secret "<name>" not found`); a
 * missing volume source → stuck `ContainerCreating`. CDI copies either into the Running condition.
 */
import { collectionPath, CONFIG_MAP, SECRET } from '../../../shared/kube/paths.js';
import { isNotFound, type KubeApi } from '../kube/api.js';
import type { RunningState } from './dv-status.js';

export interface HttpPodConfig {
  /** Environment variables of the importer container (auth, extra headers). */
  env: Record<string, string>;
  /** certConfigMap keys → PEM text; empty without certConfigMap. */
  certs: Record<string, string>;
  withCerts: boolean;
}

export type SourceConfig = { ok: true; pod: HttpPodConfig } | { ok: false; waiting: RunningState };

const decode = (v: unknown): string => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');

async function getOrUndefined(api: KubeApi, path: string): Promise<any | undefined> {
  try {
    return await api.request('GET', path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function resolveHttpSource(api: KubeApi, namespace: string, http: any): Promise<SourceConfig> {
  const secretPath = (name: string) => `${collectionPath(SECRET, namespace)}/${encodeURIComponent(name)}`;
  const configMapPath = (name: string) => `${collectionPath(CONFIG_MAP, namespace)}/${encodeURIComponent(name)}`;
  const env: Record<string, string> = {};
  const headerLines: string[] = Array.isArray(http.extraHeaders) ? http.extraHeaders.map(String) : [];

  if (typeof http.secretRef === 'string' && http.secretRef) {
    const s = await getOrUndefined(api, secretPath(http.secretRef));
    if (!s)
      return {
        ok: false,
        waiting: { status: 'False', reason: 'CreateContainerConfigError', message: `secret "${http.secretRef}" not found` },
      };
    env.IMPORTER_ACCESS_KEY_ID = decode(s.data?.accessKeyId);
    env.IMPORTER_SECRET_KEY = decode(s.data?.secretKey);
  }

  for (const name of Array.isArray(http.secretExtraHeaders) ? http.secretExtraHeaders : []) {
    const s = await getOrUndefined(api, secretPath(String(name)));
    if (!s) return { ok: false, waiting: { status: 'False', reason: 'ContainerCreating', message: '' } };
    for (const v of Object.values(s.data ?? {})) headerLines.push(decode(v));
  }
  headerLines.forEach((line, i) => (env[`IMPORTER_EXTRA_HEADER_${i}`] = line));

  const certs: Record<string, string> = {};
  const withCerts = typeof http.certConfigMap === 'string' && http.certConfigMap !== '';
  if (withCerts) {
    const cm = await getOrUndefined(api, configMapPath(http.certConfigMap));
    if (!cm) return { ok: false, waiting: { status: 'False', reason: 'ContainerCreating', message: '' } };
    for (const [key, value] of Object.entries(cm.data ?? {})) certs[key] = String(value);
  }

  return { ok: true, pod: { env, certs, withCerts } };
}
