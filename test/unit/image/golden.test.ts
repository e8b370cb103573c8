/**
 * Golden images, pure part: the key and its name, sizing against CDI's overhead arithmetic,
 * the golden DataVolume and the clone templates.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ANN_GOLDEN_CONTENT,
  ANN_GOLDEN_SOURCE,
  LABEL_GOLDEN,
  buildGoldenDataVolume,
  cloneFromGolden,
  goldenKey,
  goldenName,
  goldenSizing,
  type CachedSource,
  type GoldenKeyInput,
} from '../../../shared/image/golden.js';
import { imageCacheEnabled } from '../../../shared/image/golden-plan.js';
import { retentionMs } from '../../../functions/resync/golden-gc.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const http = (url = 'https://images.example/ubuntu.qcow2'): CachedSource => ({ http: { url } });
const keyInput = (over: Partial<GoldenKeyInput> = {}): GoldenKeyInput => ({
  source: http(),
  storage: { target: 'storage', storageClassName: 'longhorn', accessMode: 'ReadWriteOnce' },
  content: { etag: '"abc"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', length: 123456 },
  usableBytes: 2 * GiB,
  ...over,
});
const nameOf = (over: Partial<GoldenKeyInput> = {}) => goldenName(goldenKey(keyInput(over)));

test('name: deterministic, a DNS-1123 label with our prefix', () => {
  const a = nameOf();
  assert.is(a, nameOf());
  assert.match(a, /^kmf-golden-[0-9a-f]{20}$/);
  assert.ok(a.length <= 63);
});

test('name: every part of the key changes it', () => {
  const base = nameOf();
  const variants = [
    nameOf({ source: http('https://images.example/other.qcow2') }),
    nameOf({ source: { http: { url: 'https://images.example/ubuntu.qcow2', secretRef: 'creds' } } }),
    nameOf({ source: { http: { url: 'https://images.example/ubuntu.qcow2', extraHeaders: ['X-A: 1'] } } }),
    nameOf({ source: { registry: { url: 'docker://ubuntu:24.04', pullMethod: 'node' } } }),
    nameOf({ storage: { target: 'pvc', storageClassName: 'longhorn', accessMode: 'ReadWriteOnce' } }),
    nameOf({ storage: { target: 'storage', storageClassName: 'ceph', accessMode: 'ReadWriteOnce' } }),
    nameOf({ storage: { target: 'storage', storageClassName: 'longhorn', accessMode: 'ReadWriteMany' } }),
    nameOf({ content: { etag: '"def"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', length: 123456 } }),
    nameOf({ content: { etag: '"abc"', lastModified: 'Wed, 02 Dec 2026 10:00:00 GMT', length: 123456 } }),
    nameOf({ content: { etag: '"abc"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', length: 123457 } }),
    nameOf({ content: { etag: '"abc"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', length: 123456, checksum: 'sha256:00' } }),
    nameOf({ usableBytes: 3 * GiB }),
  ];
  assert.is(new Set([base, ...variants]).size, variants.length + 1);
});

test('key: member order of the input does not matter', () => {
  const a = goldenKey(keyInput({ content: { length: 1, etag: 'x' } }));
  const b = goldenKey(keyInput({ content: { etag: 'x', length: 1 } }));
  assert.is(a, b);
});

const disk = (size: string, target: 'storage' | 'pvc' = 'storage', label = 'primary disk') => ({ label, size, target });
const golden = { target: 'storage' as const, storageClassName: 'longhorn', accessMode: 'ReadWriteOnce' };

test('sizing (storage target): the virtual size rounded up to 1 MiB; CDI adds the overhead itself', () => {
  const s = goldenSizing({ virtualSize: 2 * GiB + 1, golden, disks: [disk('10Gi')], image: 'x' });
  assert.equal(s, { ok: true, usableBytes: 2 * GiB + MiB, request: '2049Mi', fromImage: true });
});

test('sizing (pvc target): the virtual size plus CDI v1.65.0 default 6% overhead', () => {
  const s = goldenSizing({ virtualSize: 1000 * MiB, golden: { ...golden, target: 'pvc' }, disks: [disk('10Gi', 'pvc')], image: 'x' });
  assert.ok(s.ok);
  // ceil(1000 MiB × 1.06) = 1060 MiB.
  assert.is(s.ok && s.request, '1060Mi');
});

test('sizing: a storage disk exactly the virtual size fits; one MiB less names both sizes', () => {
  assert.ok(goldenSizing({ virtualSize: 2 * GiB, golden, disks: [disk('2Gi')], image: 'x' }).ok);
  const s = goldenSizing({ virtualSize: 2 * GiB, golden, disks: [disk('2047Mi')], image: 'https://images.example/u.qcow2' });
  assert.not.ok(s.ok);
  const msg = !s.ok ? s.message : '';
  assert.match(msg, 'primary disk asks for 2047Mi');
  assert.match(msg, '2047 MiB (2146435072 bytes)');
  assert.match(msg, 'needs at least 2 GiB (2147483648 bytes)');
  assert.match(msg, 'https://images.example/u.qcow2');
  assert.match(msg, 'at least 2048Mi');
});

test('sizing: a pvc secondary disk needs the overhead too, and is named', () => {
  const s = goldenSizing({
    virtualSize: 2 * GiB,
    golden,
    disks: [disk('10Gi'), disk('2Gi', 'pvc', 'secondary disk 0')],
    image: 'x',
  });
  assert.not.ok(s.ok);
  const msg = !s.ok ? s.message : '';
  assert.match(msg, 'secondary disk 0 asks for 2Gi');
  assert.match(msg, "plus CDI's filesystem overhead of 6%");
  assert.match(msg, 'at least 2171Mi'); // ceil(2048 × 1.06)
  assert.ok(goldenSizing({ virtualSize: 2 * GiB, golden, disks: [disk('10Gi'), disk('2171Mi', 'pvc')], image: 'x' }).ok);
});

test('sizing: unknown virtual size → the smallest disk, never larger than any clone', () => {
  const s = goldenSizing({ golden, disks: [disk('10Gi'), disk('5Gi', 'pvc', 'secondary disk 0')], image: 'x' });
  assert.ok(s.ok);
  if (!s.ok) return;
  assert.not.ok(s.fromImage);
  // 5 GiB / 1.06 rounded down to MiB.
  assert.is(s.usableBytes, Math.floor((5 * 1024) / 1.06) * MiB);
  // The pvc disk then fits what the golden asks for (storage target: usable bytes).
  const pvcGolden = goldenSizing({ golden: { ...golden, target: 'pvc' }, disks: [disk('5Gi', 'pvc')], image: 'x' });
  assert.ok(pvcGolden.ok && Number(pvcGolden.request.replace('Mi', '')) <= 5 * 1024);
});

test('golden DataVolume: our labels, redacted source, content identity, bind immediate, no Machine labels', () => {
  const source: CachedSource = {
    http: { url: 'https://user:pw@images.example/u.qcow2?token=s3cr3t', extraHeaders: ['Authorization: Bearer t0k3n'] },
  };
  const sizing = goldenSizing({ virtualSize: 2 * GiB, golden, disks: [disk('10Gi')], image: 'x' });
  assert.ok(sizing.ok);
  if (!sizing.ok) return;
  const dv = buildGoldenDataVolume({
    name: 'kmf-golden-0123456789abcdef0123',
    namespace: 'infra',
    source,
    storage: golden,
    content: { etag: '"e"', length: 42 },
    sizing,
    virtualSize: 2 * GiB,
  });
  assert.is(dv.metadata.labels['app.kubernetes.io/managed-by'], 'kubevirt-machine-functions');
  assert.is(dv.metadata.labels[LABEL_GOLDEN], 'kmf-golden-0123456789abcdef0123');
  assert.not.ok(Object.keys(dv.metadata.labels).some((k) => k.includes('machine-uid')));
  assert.is(dv.metadata.annotations[ANN_GOLDEN_SOURCE], 'https://images.example/u.qcow2?…');
  assert.equal(JSON.parse(dv.metadata.annotations[ANN_GOLDEN_CONTENT]!), { etag: '"e"', length: 42 });
  assert.is(dv.metadata.annotations['cdi.kubevirt.io/storage.bind.immediate.requested'], 'true');
  const meta = JSON.stringify(dv.metadata);
  for (const secret of ['pw', 's3cr3t', 't0k3n']) assert.not.ok(meta.includes(secret), secret);
  assert.equal(dv.spec.storage, {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '2048Mi' } },
    storageClassName: 'longhorn',
  });
  // CDI downloads with the Machine's own source, credentials included.
  assert.equal(dv.spec.source, source);
  assert.is.not(dv.spec.source, source);
});

test('clone templates: http/registry sources become source.pvc of the golden; pvc sources stay', () => {
  const templates = [
    { metadata: { name: 'm1', labels: { a: 'b' } }, spec: { source: http(), storage: { x: 1 } } },
    { metadata: { name: 'm1-secondarydisk0' }, spec: { source: { registry: { url: 'docker://x', pullMethod: 'node' as const } } } },
    { metadata: { name: 'm1-other' }, spec: { source: { pvc: { namespace: 'ns', name: 'gold' } } } },
  ];
  const out = cloneFromGolden(templates, { namespace: 'infra', name: 'kmf-golden-x' });
  assert.equal(out[0], {
    metadata: { name: 'm1', labels: { a: 'b', [LABEL_GOLDEN]: 'kmf-golden-x' } },
    spec: { source: { pvc: { namespace: 'infra', name: 'kmf-golden-x' } }, storage: { x: 1 } },
  });
  assert.equal(out[1]!.spec.source, { pvc: { namespace: 'infra', name: 'kmf-golden-x' } });
  assert.is(out[2], templates[2]);
  // The input is not modified.
  assert.equal(templates[0]!.spec.source, http());
});

test('IMAGE_CACHE: on unless off/false/0; render asks with its own default (off)', () => {
  assert.is(imageCacheEnabled({}), true);
  assert.is(imageCacheEnabled({ IMAGE_CACHE: ' ' }), true);
  for (const v of ['on', 'ON', 'true', '1']) assert.is(imageCacheEnabled({ IMAGE_CACHE: v }), true, v);
  for (const v of ['off', 'Off', 'false', '0']) assert.is(imageCacheEnabled({ IMAGE_CACHE: v }), false, v);
  assert.is(imageCacheEnabled({}, false), false);
  assert.is(imageCacheEnabled({ IMAGE_CACHE: 'on' }, false), true);
});

test('IMAGE_CACHE_RETENTION: a Go duration, 24h when unset, undefined when malformed', () => {
  assert.is(retentionMs({}), 24 * 3600_000);
  assert.is(retentionMs({ IMAGE_CACHE_RETENTION: '90m' }), 90 * 60_000);
  assert.is(retentionMs({ IMAGE_CACHE_RETENTION: '1h30m' }), 90 * 60_000);
  assert.is(retentionMs({ IMAGE_CACHE_RETENTION: '1 day' }), undefined);
});

test.run();
