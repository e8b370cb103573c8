/**
 * What the importer pod of an `http` source gets from the DataVolume spec: extra headers,
 * basic auth from `secretRef` (keys accessKeyId / secretKey, as env vars), header lines from
 * `secretExtraHeaders` and a CA bundle from `certConfigMap` (both mounted as volumes).
 *
 * A missing Secret or ConfigMap keeps the pod from starting, as on a real node: a missing env
 * Secret → container waiting `CreateContainerConfigError` (`secret "<name>" not found`); a
 * missing volume source → stuck `ContainerCreating`. CDI copies either into the Running condition.
 */
import { collectionPath, CONFIG_MAP, SECRET } from '../../../shared/kube/paths.js';
import { isNotFound, type KubeApi } from '../kube/api.js';
import type { ResolvedImporterOptions } from '../options.js';
import type { RunningState } from './dv-status.js';
import type { FetchConfig } from './http-fetch.js';

export type SourceConfig = { ok: true; fetch: FetchConfig } | { ok: false; waiting: RunningState };

const decode = (v: unknown): string => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');

async function getOrUndefined(api: KubeApi, path: string): Promise<any | undefined> {
  try {
    return await api.request('GET', path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function resolveHttpSource(api: KubeApi, namespace: string, http: any, opts: ResolvedImporterOptions): Promise<SourceConfig> {
  const secretPath = (name: string) => `${collectionPath(SECRET, namespace)}/${encodeURIComponent(name)}`;
  const configMapPath = (name: string) => `${collectionPath(CONFIG_MAP, namespace)}/${encodeURIComponent(name)}`;
  const headerLines: string[] = Array.isArray(http.extraHeaders) ? http.extraHeaders.map(String) : [];

  let basicAuth: FetchConfig['basicAuth'];
  if (typeof http.secretRef === 'string' && http.secretRef) {
    const s = await getOrUndefined(api, secretPath(http.secretRef));
    if (!s)
      return {
        ok: false,
        waiting: { status: 'False', reason: 'CreateContainerConfigError', message: `secret "${http.secretRef}" not found` },
      };
    const user = decode(s.data?.accessKeyId);
    const password = decode(s.data?.secretKey);
    if (user && password) basicAuth = { user, password };
  }

  for (const name of Array.isArray(http.secretExtraHeaders) ? http.secretExtraHeaders : []) {
    const s = await getOrUndefined(api, secretPath(String(name)));
    if (!s) return { ok: false, waiting: { status: 'False', reason: 'ContainerCreating', message: '' } };
    for (const v of Object.values(s.data ?? {})) headerLines.push(decode(v));
  }

  let ca: string | undefined;
  if (typeof http.certConfigMap === 'string' && http.certConfigMap) {
    const cm = await getOrUndefined(api, configMapPath(http.certConfigMap));
    if (!cm) return { ok: false, waiting: { status: 'False', reason: 'ContainerCreating', message: '' } };
    ca = Object.values(cm.data ?? {})
      .map(String)
      .join('\n');
  }

  return {
    ok: true,
    fetch: {
      headerLines,
      basicAuth,
      ca,
      insecureSkipVerify: http.insecureSkipVerify === true,
      connectTimeoutMs: opts.connectTimeoutMs,
      maxRedirects: opts.maxRedirects,
    },
  };
}
