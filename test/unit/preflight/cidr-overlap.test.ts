/**
 * CIDR overlap between the Machines' cluster and the infra cluster: the pure comparison
 * (tables), the env configuration, and clusterCidrs against a fake API server over real HTTP.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkCidrOverlap, cidrConfigFromEnv, clusterCidrs, type ClusterCidrs } from '../../../shared/preflight/cidr-overlap.js';
import { PreflightConfigError } from '../../../shared/preflight/refused.js';
import { KubeClient } from '../../../shared/kube/rest.js';
import { startServer, status, type Route } from './server.js';

const c = (serviceCidrs: string[], podCidrs: string[]): ClusterCidrs => ({ serviceCidrs, podCidrs });

test('checkCidrOverlap: table', () => {
  const table: [string, ClusterCidrs, ClusterCidrs, [string, string][]][] = [
    ['disjoint defaults', c(['10.240.16.0/20'], ['172.25.0.0/16']), c(['10.96.0.0/12'], ['10.244.0.0/16']), []],
    [
      'same service range',
      c(['10.96.0.0/12'], ['172.25.0.0/16']),
      c(['10.96.0.0/12'], ['10.244.0.0/16']),
      [['10.96.0.0/12', '10.96.0.0/12']],
    ],
    [
      'machines pod inside infra service',
      c(['10.240.16.0/20'], ['10.100.0.0/16']),
      c(['10.96.0.0/12'], ['10.244.0.0/16']),
      [['10.100.0.0/16', '10.96.0.0/12']],
    ],
    [
      'infra node pod slice inside machines pod range',
      c(['10.240.16.0/20'], ['10.244.0.0/16']),
      c(['10.96.0.0/12'], ['10.244.3.0/24']),
      [['10.244.0.0/16', '10.244.3.0/24']],
    ],
    ['adjacent ranges do not overlap', c(['10.112.0.0/12'], []), c(['10.96.0.0/12'], []), []],
    [
      'dual stack: only the IPv6 ranges collide',
      c(['10.240.16.0/20', 'fd00:10:96::/108'], []),
      c(['10.96.0.0/12', 'fd00:10:96::/112'], []),
      [['fd00:10:96::/108', 'fd00:10:96::/112']],
    ],
    ['families never overlap', c(['fd00::/8'], []), c(['10.0.0.0/8'], []), []],
    ['one side unknown: nothing compared', c([], []), c(['10.96.0.0/12'], ['10.244.0.0/16']), []],
  ];
  for (const [name, machines, infra, want] of table) {
    const r = checkCidrOverlap(machines, infra);
    assert.equal(r.ok ? [] : r.overlaps.map((o) => [o.machines.cidr, o.infra.cidr]), want, name);
  }
  assert.equal(checkCidrOverlap(c([], []), c(['10.96.0.0/12'], [])), { ok: true, compared: 0 });
  assert.equal(checkCidrOverlap(c(['10.240.16.0/20'], ['172.25.0.0/16']), c(['10.96.0.0/12'], [])), { ok: true, compared: 2 });
});

test('checkCidrOverlap: the message names both ranges and which cluster each belongs to', () => {
  const r = checkCidrOverlap(c(['10.96.0.0/12'], ['10.244.0.0/16']), c(['10.96.0.0/16'], ['10.200.0.0/16']));
  assert.ok(!r.ok);
  if (r.ok) return;
  assert.ok(
    r.message.startsWith("service CIDR 10.96.0.0/12 of the Machines' cluster overlaps service CIDR 10.96.0.0/16 of the infra cluster"),
    r.message,
  );
  assert.is(r.overlaps.length, 1);
  assert.throws(
    () => checkCidrOverlap(c(['10.96.0.0'], []), c([], [])),
    (e: Error) => e instanceof PreflightConfigError && e.message.includes('"10.96.0.0"'),
  );
});

test('cidrConfigFromEnv: four comma-separated lists; an invalid entry names its variable', () => {
  const cfg = cidrConfigFromEnv({
    MACHINES_CLUSTER_SERVICE_CIDRS: '10.240.16.0/20, fd00:10:240::/108',
    MACHINES_CLUSTER_POD_CIDRS: '172.25.0.0/16',
    INFRA_CLUSTER_SERVICE_CIDRS: '10.96.0.0/12',
  });
  assert.equal(cfg, {
    machines: { serviceCidrs: ['10.240.16.0/20', 'fd00:10:240::/108'], podCidrs: ['172.25.0.0/16'] },
    infra: { serviceCidrs: ['10.96.0.0/12'], podCidrs: [] },
  });
  assert.throws(
    () => cidrConfigFromEnv({ INFRA_CLUSTER_POD_CIDRS: '10.244.0.0/16,10.300.0.0/16' }),
    /INFRA_CLUSTER_POD_CIDRS: "10.300.0.0\/16" is not a valid CIDR/,
  );
  // Cluster ranges need a prefix: a bare address is a mistake here.
  assert.throws(
    () => cidrConfigFromEnv({ MACHINES_CLUSTER_SERVICE_CIDRS: '10.96.0.1' }),
    (e: Error) => e instanceof PreflightConfigError,
  );
});

const json =
  (body: unknown): Route =>
  (_req, res) =>
    void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

/** A fake API server over real HTTP, read through the project's KubeClient. */
async function apiWith(routes: Record<string, Route>) {
  const srv = await startServer(routes);
  const kube = new KubeClient({ server: `http://127.0.0.1:${srv.port}` });
  return { srv, kube, close: async () => (kube.close(), srv.close()) };
}

test('clusterCidrs: ServiceCIDR objects and node podCIDRs (paged) where the API has them', async () => {
  let page = 0;
  const api = await apiWith({
    '/apis/networking.k8s.io/v1/servicecidrs': json({
      items: [{ spec: { cidrs: ['10.96.0.0/12', 'fd00:10:96::/108'] } }, { spec: { cidrs: ['10.200.0.0/24'] } }],
    }),
    '/api/v1/nodes': (req, res) =>
      json(
        page++ === 0
          ? {
              metadata: { continue: 'next' },
              items: [{ spec: { podCIDRs: ['10.244.0.0/24', 'fd00:10:244::/64'] } }, { spec: { podCIDR: '10.244.1.0/24' } }],
            }
          : { metadata: {}, items: [{ spec: {} }, { spec: { podCIDRs: ['10.244.2.0/24'] } }] },
      )(req, res),
  });
  try {
    const found = await clusterCidrs(api.kube, { serviceCidrs: ['10.0.0.0/16'], podCidrs: ['10.244.0.0/16'] });
    assert.equal(found.serviceCidrs, ['10.96.0.0/12', 'fd00:10:96::/108', '10.200.0.0/24']);
    assert.equal(found.podCidrs, ['10.244.0.0/16', '10.244.0.0/24', 'fd00:10:244::/64', '10.244.1.0/24', '10.244.2.0/24']);
    assert.equal(found.sources, { service: 'ServiceCIDR', pod: 'nodes+config' });
    assert.ok(api.srv.seen.some((s) => s.path === '/api/v1/nodes'));
  } finally {
    await api.close();
  }
});

test('clusterCidrs: no ServiceCIDR API (404) and nodes forbidden (403) → the configured fallback', async () => {
  const api = await apiWith({ '/api/v1/nodes': status(403) });
  try {
    const found = await clusterCidrs(api.kube, { serviceCidrs: ['10.96.0.0/12'], podCidrs: ['10.244.0.0/16'] });
    assert.equal(found, { serviceCidrs: ['10.96.0.0/12'], podCidrs: ['10.244.0.0/16'], sources: { service: 'config', pod: 'config' } });
    const nothing = await clusterCidrs(api.kube);
    assert.equal(nothing, { serviceCidrs: [], podCidrs: [], sources: { service: 'none', pod: 'none' } });
  } finally {
    await api.close();
  }
});

test('clusterCidrs: a 5xx is not swallowed (transient for the caller)', async () => {
  const api = await apiWith({ '/apis/networking.k8s.io/v1/servicecidrs': status(500) });
  try {
    await clusterCidrs(api.kube, {}).then(
      () => assert.unreachable('expected a rejection'),
      (e: Error) => assert.match(e.message, /500/),
    );
  } finally {
    await api.close();
  }
});

test.run();
