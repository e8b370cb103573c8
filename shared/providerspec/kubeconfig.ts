/**
 * The infra-cluster kubeconfig in a providerSpec: base64 decoding as machine-controller does it
 * and a light structural check (what `clientcmd.RESTConfigFromKubeConfig` would reject).
 *
 * The kubeconfig is a credential. Nothing here ever puts its text (or a YAML parser message,
 * which quotes the offending source line) into an error: errors carry positions and rules only.
 * Uses `yaml`, not @kubernetes/client-node, to keep this module light.
 */
import { parseDocument } from 'yaml';
import { isJsonObject } from './go-json.js';

/** A base64 or kubeconfig problem; the message never contains the input. */
export class KubeconfigDecodeError extends Error {}

const BASE64_CHAR = /[A-Za-z0-9+/]/;

/**
 * Go's `base64.StdEncoding.DecodeString`: standard alphabet, `=` padding required, `\r` and
 * `\n` ignored anywhere. Throws `illegal base64 data at input byte N` like Go.
 */
export function decodeBase64Strict(text: string): string {
  let quantum = 0; // characters in the current 4-character group
  let groupStart = 0; // input offset where that group began
  let padding = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r' || c === '\n') continue;
    if (quantum === 0) groupStart = i;
    if (c === '=') {
      // Padding may only fill positions 3 and 4 of the final group.
      if (quantum < 2 || (padding === 0 && quantum === 2 && nextDataChar(text, i + 1) !== '=')) {
        throw corrupt(i);
      }
      padding++;
    } else if (!BASE64_CHAR.test(c) || padding > 0) {
      throw corrupt(i);
    }
    quantum = (quantum + 1) % 4;
  }
  if (quantum !== 0) throw corrupt(groupStart);
  return Buffer.from(text.replace(/[\r\n]/g, ''), 'base64').toString('utf8');
}

function nextDataChar(text: string, from: number): string | undefined {
  for (let i = from; i < text.length; i++) if (text[i] !== '\r' && text[i] !== '\n') return text[i];
  return undefined;
}

function corrupt(offset: number): KubeconfigDecodeError {
  return new KubeconfigDecodeError(`illegal base64 data at input byte ${offset}`);
}

/**
 * machine-controller's lenient decode for kubeconfigs from a Secret, ConfigMap or the
 * environment: base64 if it decodes, otherwise the text as is (raw YAML/JSON).
 */
export function decodeBase64Lenient(text: string): string {
  try {
    return decodeBase64Strict(text);
  } catch {
    return text;
  }
}

type Entries = Record<string, Record<string, unknown>>;

/** `[{name, <field>: {...}}]` → name → entry body; tolerant of junk (validation comes later). */
function namedEntries(list: unknown, field: string): Entries {
  const out: Entries = {};
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (isJsonObject(item) && typeof item.name === 'string' && isJsonObject(item[field])) {
      out[item.name] = item[field];
    }
  }
  return out;
}

/**
 * Fields of a kubeconfig's cluster and user that make a client read a local file or run a
 * program. In a kubeconfig from a providerSpec they would make the function read its own files
 * (its ServiceAccount token among them) and send them to the spec's server, so such a
 * kubeconfig must carry its credentials inline.
 */
const NOT_INLINE: Record<'cluster' | 'user', string[]> = {
  cluster: ['certificate-authority'],
  user: ['client-certificate', 'client-key', 'tokenFile', 'token-file', 'exec', 'auth-provider'],
};

/**
 * Checks that decoded kubeconfig text is a usable kubeconfig: YAML or JSON, a mapping, with a
 * `current-context` that names a context whose cluster has a `server` (clientcmd requires all
 * of that). With `inlineOnly` (a kubeconfig a providerSpec supplies), the context's cluster and
 * user may not reference files or plugins, and the server must be an http(s) URL. Throws
 * {@link KubeconfigDecodeError} with a content-free message otherwise.
 */
export function validateKubeconfig(text: string, { inlineOnly = false } = {}): void {
  // parseDocument, not parse: it collects errors and warnings instead of logging them (they
  // quote source text). Only positions are reported.
  const parsed = parseDocument(text);
  const error = parsed.errors[0];
  if (error) {
    const pos = error.linePos?.[0];
    const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
    throw new KubeconfigDecodeError(`not valid YAML or JSON${where}`);
  }
  let doc: unknown;
  try {
    doc = parsed.toJS({ maxAliasCount: 100 });
  } catch {
    // Alias bombs ("billion laughs") end here.
    throw new KubeconfigDecodeError('not valid YAML or JSON: too many aliases');
  }
  if (!isJsonObject(doc)) {
    throw new KubeconfigDecodeError('not a kubeconfig: expected a YAML or JSON mapping');
  }
  const clusters = namedEntries(doc.clusters, 'cluster');
  if (Object.keys(clusters).length === 0) {
    // clientcmd's ErrEmptyConfig wording.
    throw new KubeconfigDecodeError('invalid configuration: no configuration has been provided');
  }
  const current = doc['current-context'];
  if (typeof current !== 'string' || current === '') {
    throw new KubeconfigDecodeError('invalid configuration: current-context is not set');
  }
  const context = namedEntries(doc.contexts, 'context')[current];
  if (!context) {
    throw new KubeconfigDecodeError('invalid configuration: current-context names a context that does not exist');
  }
  const cluster = typeof context.cluster === 'string' ? clusters[context.cluster] : undefined;
  if (!cluster) {
    throw new KubeconfigDecodeError('invalid configuration: the current context names a cluster that does not exist');
  }
  if (typeof cluster.server !== 'string' || cluster.server === '') {
    throw new KubeconfigDecodeError('invalid configuration: cluster has no server defined');
  }
  if (!inlineOnly) return;
  const user = typeof context.user === 'string' ? namedEntries(doc.users, 'user')[context.user] : undefined;
  for (const [what, entry] of [
    ['cluster', cluster],
    ['user', user],
  ] as const) {
    const found = NOT_INLINE[what].filter((f) => entry?.[f] !== undefined && entry[f] !== null && entry[f] !== '');
    if (found.length > 0) {
      const plugin = found.some((f) => f === 'exec' || f === 'auth-provider');
      throw new KubeconfigDecodeError(
        `the current context's ${what} uses ${found.join(', ')}: a providerSpec kubeconfig must carry its credentials inline ` +
          `(${plugin ? 'token or client-certificate-data/client-key-data' : 'certificate-authority-data, client-certificate-data, client-key-data or token'}); ` +
          'files and credential plugins are refused',
      );
    }
  }
  let server: URL | undefined;
  try {
    server = new URL(cluster.server);
  } catch {
    server = undefined;
  }
  if (!server || (server.protocol !== 'https:' && server.protocol !== 'http:') || server.hostname === '') {
    throw new KubeconfigDecodeError('invalid configuration: the cluster server is not an http(s) URL');
  }
}
