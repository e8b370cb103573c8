/**
 * A loopback stand-in for a container registry: just the manifest reads the machine function's
 * image preflight makes to learn a registry image's digest (shared/preflight/registry-digest.ts).
 * It serves manifests, not blobs: CDI's registry import is simulated (dev/simulator/cdi).
 *
 * What it follows:
 * - OCI distribution-spec v1.1, "Pulling manifests": `GET`/`HEAD /v2/<name>/manifests/<reference>`,
 *   reference a tag or a digest; 200 with `Content-Type` (the manifest's media type),
 *   `Content-Length` and `Docker-Content-Digest` (sha256 of the manifest bytes); 404 with the
 *   error body `{"errors":[{"code":"MANIFEST_UNKNOWN",…}]}` (`NAME_UNKNOWN` for an unknown
 *   repository); `GET /v2/` answers 200 (the API version check).
 * - Docker token authentication spec (distribution/distribution docs/spec/auth/token.md): a
 *   repository pushed with `auth: 'token'` or `'private'` answers a request without a valid
 *   Bearer token with 401 and `WWW-Authenticate: Bearer realm="<this server>/token",
 *   service="stand-in-registry",scope="repository:<name>:pull"`. `GET /token` hands out an
 *   anonymous token (`{"token":…,"access_token":…}`) whose grant covers the `token`
 *   repositories named in `scope`, not the `private` ones — as Docker Hub grants nothing on a
 *   private repository to anonymous clients, whose retry then gets 401 `insufficient_scope`.
 *
 * A re-push moves the tag to a new manifest (new digest); the old manifest stays readable by
 * digest, as in a real registry. Every request is logged.
 */
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SERVICE = 'stand-in-registry';

export type RepositoryAuth = 'none' | 'token' | 'private';

interface Repository {
  auth: RepositoryAuth;
  tags: Map<string, string>;
  /** By digest. */
  manifests: Map<string, Buffer>;
}

export interface RegistryRequest {
  method: string;
  /** Path and query. */
  path: string;
  /** Whether an Authorization header was sent (never its value). */
  authorized: boolean;
  status: number;
}

export interface RegistryServer {
  /** `127.0.0.1:<port>`: for INSECURE_REGISTRIES and image references. */
  host: string;
  /** `docker://127.0.0.1:<port>/<reference>`. */
  url(reference: string): string;
  /** Pushes a new manifest under `repository:tag` (a re-push moves the tag); returns its digest. */
  push(repository: string, tag: string, opts?: { auth?: RepositoryAuth }): string;
  /** The digest the tag points at now. */
  digestOf(repository: string, tag: string): string | undefined;
  /** Every request, in arrival order. */
  requests: RegistryRequest[];
  /** Requests for one repository's manifests. */
  manifestRequests(repository: string): RegistryRequest[];
  close(): Promise<void>;
}

/**
 * A small OCI image manifest: a config and one layer of made-up digests (never served), with a
 * random annotation so every push is new content, as a rebuilt image is.
 */
function manifest(): Buffer {
  const fake = () => `sha256:${randomBytes(32).toString('hex')}`;
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: fake(), size: 512 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: fake(), size: 262144 }],
      annotations: { 'org.opencontainers.image.created': new Date().toISOString(), build: randomBytes(8).toString('hex') },
    }),
  );
}

const digestOf = (body: Buffer): string => `sha256:${createHash('sha256').update(body).digest('hex')}`;

export async function startRegistryServer(port = 0): Promise<RegistryServer> {
  const repos = new Map<string, Repository>();
  /** Issued tokens → the repositories they grant pull on. */
  const tokens = new Map<string, Set<string>>();
  const requests: RegistryRequest[] = [];
  let self = '';

  const errors = (res: http.ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}) => {
    const body = JSON.stringify({ errors: [{ code, message, detail: null }] });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const entry: RegistryRequest = {
      method: req.method ?? '',
      path: url.pathname + url.search,
      authorized: !!req.headers.authorization,
      status: 0,
    };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));

    if (url.pathname === '/token') {
      // Anonymous: a grant on every `token` repository the scope names; none on `private` ones.
      const grant = new Set<string>();
      for (const scope of url.searchParams.getAll('scope')) {
        const m = /^repository:([^:]+):(.+)$/.exec(scope);
        if (m && m[2]!.split(',').includes('pull') && repos.get(m[1]!)?.auth === 'token') grant.add(m[1]!);
      }
      const token = randomBytes(16).toString('hex');
      tokens.set(token, grant);
      const body = JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0', 'content-type': 'application/json' });
      return res.end('{}');
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) return errors(res, 404, 'NOT_FOUND', 'not served by the stand-in');
    const [, name, reference] = m as unknown as [string, string, string];
    const repo = repos.get(name);
    if (!repo) return errors(res, 404, 'NAME_UNKNOWN', 'repository name not known to registry');
    if (repo.auth !== 'none') {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const granted = bearer !== undefined && tokens.get(bearer)?.has(name);
      if (!granted) {
        const scope = `repository:${name}:pull`;
        const error = bearer === undefined ? '' : ',error="insufficient_scope"';
        return errors(res, 401, 'UNAUTHORIZED', 'authentication required', {
          'www-authenticate': `Bearer realm="${self}/token",service="${SERVICE}",scope="${scope}"${error}`,
        });
      }
    }
    const digest = reference.startsWith('sha256:') ? reference : repo.tags.get(reference);
    const body = digest === undefined ? undefined : repo.manifests.get(digest);
    if (!body) return errors(res, 404, 'MANIFEST_UNKNOWN', 'manifest unknown');
    res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': body.length, 'docker-content-digest': digest! });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  self = `http://${host}`;
  return {
    host,
    url: (reference) => `docker://${host}/${reference}`,
    push(repository, tag, opts = {}) {
      const repo = repos.get(repository) ?? { auth: opts.auth ?? 'none', tags: new Map(), manifests: new Map() };
      if (opts.auth) repo.auth = opts.auth;
      repos.set(repository, repo);
      const body = manifest();
      const digest = digestOf(body);
      repo.manifests.set(digest, body);
      repo.tags.set(tag, digest);
      return digest;
    },
    digestOf: (repository, tag) => repos.get(repository)?.tags.get(tag),
    requests,
    manifestRequests: (repository) => requests.filter((r) => r.path.startsWith(`/v2/${repository}/manifests/`)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
