/**
 * toDataVolumeSource against every row of machine-controller's parseOSImageSource table
 * (machine-controller-kubevirt.md §3.3) and the image sources of its unit-test fixtures (§10.2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ImageSpec } from '../../../shared/providerspec/types.js';
import { toDataVolumeSource } from '../../../shared/image/source.js';

const VM_NS = 'test-namespace';

/** A fresh image spec per call: the fixture defaults plus the case's overrides. */
function image(overrides: Partial<ImageSpec>): ImageSpec {
  return { osImage: 'http://x.y.z.t/ubuntu.img', source: '', pullMethod: 'node', ...overrides };
}

// --- explicit source: http -------------------------------------------------------------

test('http: url only', () => {
  assert.equal(toDataVolumeSource(image({ source: 'http' }), VM_NS), {
    http: { url: 'http://x.y.z.t/ubuntu.img' },
  });
});

test('http: extraHeaders and dataVolumeSecretRef become extraHeaders and secretRef', () => {
  const src = toDataVolumeSource(image({ source: 'http', extraHeaders: ['a: b', 'c: d'], dataVolumeSecretRef: 'basic-auth' }), VM_NS);
  assert.equal(src, { http: { url: 'http://x.y.z.t/ubuntu.img', extraHeaders: ['a: b', 'c: d'], secretRef: 'basic-auth' } });
});

test('http: empty extraHeaders and empty secretRef are omitted, not emitted empty', () => {
  const src = toDataVolumeSource(image({ source: 'http', extraHeaders: [], dataVolumeSecretRef: '' }), VM_NS);
  assert.equal(src, { http: { url: 'http://x.y.z.t/ubuntu.img' } });
  assert.not.ok('extraHeaders' in (src as { http: object }).http);
  assert.not.ok('secretRef' in (src as { http: object }).http);
});

test('http: explicit source keeps a non-URL osImage as the url (no re-interpretation)', () => {
  assert.equal(toDataVolumeSource(image({ source: 'http', osImage: 'ns/dvname' }), VM_NS), {
    http: { url: 'ns/dvname' },
  });
});

test('http: the returned headers array is a copy of the spec', () => {
  const spec = image({ source: 'http', extraHeaders: ['a: b'] });
  const src = toDataVolumeSource(spec, VM_NS) as { http: { extraHeaders: string[] } };
  src.http.extraHeaders.push('mutated: yes');
  assert.equal(spec.extraHeaders, ['a: b']);
});

// --- explicit source: registry ---------------------------------------------------------

test('registry: docker:// with pullMethod node', () => {
  const src = toDataVolumeSource(image({ source: 'registry', osImage: 'docker://x.y.z.t/ubuntu.img:latest' }), VM_NS);
  assert.equal(src, { registry: { url: 'docker://x.y.z.t/ubuntu.img:latest', pullMethod: 'node' } });
});

test('registry: docker:// with pullMethod pod', () => {
  const src = toDataVolumeSource(image({ source: 'registry', osImage: 'docker://x.y.z.t/ubuntu.img:latest', pullMethod: 'pod' }), VM_NS);
  assert.equal(src, { registry: { url: 'docker://x.y.z.t/ubuntu.img:latest', pullMethod: 'pod' } });
});

test('registry: oci-archive:// with explicit source is a registry import', () => {
  const src = toDataVolumeSource(image({ source: 'registry', osImage: 'oci-archive://images/ubuntu.tar' }), VM_NS);
  assert.equal(src, { registry: { url: 'oci-archive://images/ubuntu.tar', pullMethod: 'node' } });
});

test('registry: http-only fields are not carried over', () => {
  const src = toDataVolumeSource(
    image({ source: 'registry', osImage: 'docker://r/i', extraHeaders: ['a: b'], dataVolumeSecretRef: 's' }),
    VM_NS,
  );
  assert.equal(src, { registry: { url: 'docker://r/i', pullMethod: 'node' } });
});

// --- explicit source: pvc --------------------------------------------------------------

test('pvc: ns/name → namespace and name', () => {
  assert.equal(toDataVolumeSource(image({ source: 'pvc', osImage: 'ns/dvname' }), VM_NS), {
    pvc: { namespace: 'ns', name: 'dvname' },
  });
});

test('pvc: a bare name is cloned from the VM namespace', () => {
  assert.equal(toDataVolumeSource(image({ source: 'pvc', osImage: 'dvname' }), VM_NS), {
    pvc: { namespace: VM_NS, name: 'dvname' },
  });
});

test('pvc: more than two parts → first two, the rest dropped (Go strings.Split, p[0]/p[1])', () => {
  assert.equal(toDataVolumeSource(image({ source: 'pvc', osImage: 'a/b/c' }), VM_NS), {
    pvc: { namespace: 'a', name: 'b' },
  });
});

test('pvc: even a URL is split on / when the source says pvc', () => {
  assert.equal(toDataVolumeSource(image({ source: 'pvc', osImage: 'http://x/y' }), VM_NS), {
    pvc: { namespace: 'http:', name: '' },
  });
});

// --- empty / unknown source: Go url.ParseRequestURI decides ---------------------------

test('auto: docker:// → registry with pullMethod', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'docker://r.example/img:1', pullMethod: 'pod' }), VM_NS), {
    registry: { url: 'docker://r.example/img:1', pullMethod: 'pod' },
  });
});

test('auto: oci:// → registry', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'oci://r.example/img:1' }), VM_NS), {
    registry: { url: 'oci://r.example/img:1', pullMethod: 'node' },
  });
});

test('auto: scheme matching is case-insensitive (Go lowercases the scheme)', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'DOCKER://r.example/img' }), VM_NS), {
    registry: { url: 'DOCKER://r.example/img', pullMethod: 'node' },
  });
});

test('auto: oci-archive:// is not docker/oci → http (only source: registry makes it a registry import)', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'oci-archive://images/ubuntu.tar' }), VM_NS), {
    http: { url: 'oci-archive://images/ubuntu.tar' },
  });
});

test('auto: https URL → http with extraHeaders and secretRef', () => {
  const src = toDataVolumeSource(
    image({ osImage: 'https://images.example/u.qcow2?sig=1', extraHeaders: ['x: y'], dataVolumeSecretRef: 'creds' }),
    VM_NS,
  );
  assert.equal(src, { http: { url: 'https://images.example/u.qcow2?sig=1', extraHeaders: ['x: y'], secretRef: 'creds' } });
});

test('auto: any other scheme (s3://) → http', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 's3://bucket/key' }), VM_NS), { http: { url: 's3://bucket/key' } });
});

test('auto: an absolute path is a request URI → http', () => {
  assert.equal(toDataVolumeSource(image({ osImage: '/images/u.img' }), VM_NS), { http: { url: '/images/u.img' } });
});

test('auto: ns/dvname is not a request URI → pvc ns/dvname', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'ns/dvname' }), VM_NS), { pvc: { namespace: 'ns', name: 'dvname' } });
});

test('auto: a bare name → pvc in the VM namespace', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'dvname' }), VM_NS), { pvc: { namespace: VM_NS, name: 'dvname' } });
});

test('auto: a registry reference without scheme is not a URI → pvc split (as upstream)', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'quay.io/org/img:1' }), VM_NS), {
    pvc: { namespace: 'quay.io', name: 'org' },
  });
});

test('auto: a URL Go rejects (bad port) falls through to the pvc rule', () => {
  assert.equal(toDataVolumeSource(image({ osImage: 'http://host:port/x' }), VM_NS), {
    pvc: { namespace: 'http:', name: '' },
  });
});

test('auto: empty osImage → pvc with empty name in the VM namespace (Go Split("") = [""])', () => {
  assert.equal(toDataVolumeSource(image({ osImage: '' }), VM_NS), { pvc: { namespace: VM_NS, name: '' } });
});

test('unknown source value is treated like an empty one', () => {
  assert.equal(toDataVolumeSource(image({ source: 's3', osImage: 'docker://r/i' }), VM_NS), {
    registry: { url: 'docker://r/i', pullMethod: 'node' },
  });
  assert.equal(toDataVolumeSource(image({ source: 'HTTP', osImage: 'ns/dv' }), VM_NS), {
    pvc: { namespace: 'ns', name: 'dv' },
  });
});

// --- machine-controller's fixtures (provider_test.go / testdata) ----------------------

const fixtures: [name: string, spec: Partial<ImageSpec>, expected: unknown][] = [
  ['nominal-case', {}, { http: { url: 'http://x.y.z.t/ubuntu.img' } }],
  [
    'extra-headers-set',
    { extraHeaders: ['authorization: Basic bXE6cGFzc3dvcmQ='] },
    { http: { url: 'http://x.y.z.t/ubuntu.img', extraHeaders: ['authorization: Basic bXE6cGFzc3dvcmQ='] } },
  ],
  ['custom-local-disk', { osImage: 'ns/dvname' }, { pvc: { namespace: 'ns', name: 'dvname' } }],
  ['http-image-source', { source: 'http' }, { http: { url: 'http://x.y.z.t/ubuntu.img' } }],
  [
    'registry-image-source',
    { source: 'registry', osImage: 'docker://x.y.z.t/ubuntu.img:latest', pullMethod: 'node' },
    { registry: { url: 'docker://x.y.z.t/ubuntu.img:latest', pullMethod: 'node' } },
  ],
  [
    'registry-image-source-pod',
    { source: 'registry', osImage: 'docker://x.y.z.t/ubuntu.img:latest', pullMethod: 'pod' },
    { registry: { url: 'docker://x.y.z.t/ubuntu.img:latest', pullMethod: 'pod' } },
  ],
  ['pvc-image-source', { source: 'pvc', osImage: 'ns/dvname' }, { pvc: { namespace: 'ns', name: 'dvname' } }],
];

for (const [name, spec, expected] of fixtures) {
  test(`fixture ${name}`, () => {
    assert.equal(toDataVolumeSource(image(spec), VM_NS), expected);
  });
}

test.run();
