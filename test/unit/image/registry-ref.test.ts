/**
 * parseRegistryRef: CDI registry URLs as containers/image's docker transport reads them
 * (distribution/reference grammar, Docker Hub normalisation), and the pinned URL a golden imports.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  insecureRegistriesFromEnv,
  isInsecureRegistry,
  parseRegistryRef,
  pinnedRegistryUrl,
  type RegistryRef,
} from '../../../shared/image/registry-ref.js';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

function ok(url: string): RegistryRef {
  const r = parseRegistryRef(url);
  if (!r.ok) throw new Error(`${url}: ${r.message}`);
  return r.ref;
}
function bad(url: string): string {
  const r = parseRegistryRef(url);
  assert.not.ok(r.ok, url);
  return (r as { message: string }).message;
}

test('a registry with a dotted host, a nested path and a tag', () => {
  assert.equal(ok('docker://quay.io/containerdisks/ubuntu:22.04'), {
    name: 'quay.io/containerdisks/ubuntu',
    registry: 'quay.io',
    repository: 'containerdisks/ubuntu',
    tag: '22.04',
  });
});

test('Docker Hub: no host, docker.io or index.docker.io → registry-1.docker.io; one component → library/', () => {
  assert.equal(ok('docker://ubuntu'), {
    name: 'ubuntu',
    registry: 'registry-1.docker.io',
    repository: 'library/ubuntu',
    tag: 'latest',
    tagDefaulted: true,
  });
  assert.is(ok('docker://ubuntu:22.04').repository, 'library/ubuntu');
  assert.is(ok('docker://ubuntu:22.04').tag, '22.04');
  assert.is(ok('docker://docker.io/ubuntu:22.04').repository, 'library/ubuntu');
  assert.is(ok('docker://docker.io/ubuntu:22.04').registry, 'registry-1.docker.io');
  assert.is(ok('docker://index.docker.io/library/ubuntu').repository, 'library/ubuntu');
  // Two components without a dot, colon or localhost: a Docker Hub user's repository.
  const user = ok('docker://kubevirt/fedora-cloud-container-disk-demo:latest');
  assert.is(user.registry, 'registry-1.docker.io');
  assert.is(user.repository, 'kubevirt/fedora-cloud-container-disk-demo');
  assert.is(user.name, 'kubevirt/fedora-cloud-container-disk-demo');
});

test('ports, localhost, IPv6 literals: the first component is the registry', () => {
  const r = ok('docker://127.0.0.1:5000/containerdisks/ubuntu:22.04');
  assert.is(r.registry, '127.0.0.1:5000');
  assert.is(r.repository, 'containerdisks/ubuntu');
  assert.is(r.tag, '22.04');
  assert.is(ok('docker://localhost/img').registry, 'localhost');
  assert.is(ok('docker://localhost/img').repository, 'img');
  assert.is(ok('docker://registry.local:5000/img').tag, 'latest');
  assert.is(ok('docker://[::1]:5000/img:1').registry, '[::1]:5000');
  // An upper-case first component is a host (a path component never may be upper-case).
  assert.is(ok('docker://Registry/img').registry, 'registry');
});

test('digest-pinned: the digest, no tag, nothing defaulted', () => {
  assert.equal(ok(`docker://quay.io/containerdisks/ubuntu@${D}`), {
    name: 'quay.io/containerdisks/ubuntu',
    registry: 'quay.io',
    repository: 'containerdisks/ubuntu',
    digest: D,
  });
  assert.equal(ok(`docker://ubuntu@${D}`).repository, 'library/ubuntu');
  assert.equal(ok(`docker://127.0.0.1:5000/x@${D}`).registry, '127.0.0.1:5000');
});

test('tag and digest: both kept; the pinned URL drops the tag (containers/image refuses both)', () => {
  const r = ok(`docker://quay.io/containerdisks/ubuntu:22.04@${D}`);
  assert.is(r.tag, '22.04');
  assert.is(r.digest, D);
  assert.is(pinnedRegistryUrl(r, D), `docker://quay.io/containerdisks/ubuntu@${D}`);
});

test('pinned URL: the name as written (host kept or not), @digest', () => {
  assert.is(pinnedRegistryUrl(ok('docker://ubuntu:22.04'), D), `docker://ubuntu@${D}`);
  assert.is(
    pinnedRegistryUrl(ok('docker://127.0.0.1:5000/containerdisks/ubuntu:22.04'), D),
    `docker://127.0.0.1:5000/containerdisks/ubuntu@${D}`,
  );
  assert.is(parseRegistryRef(pinnedRegistryUrl(ok('docker://docker.io/ubuntu'), D)).ok, true);
});

test('bad references and other schemes are refused with the reason', () => {
  assert.match(bad('oci-archive:///data/disk.tar'), 'image archive file');
  assert.match(bad('oci://quay.io/x/y:1'), 'scheme oci');
  assert.match(bad('http://quay.io/x/y'), 'scheme http');
  assert.match(bad('quay.io/x/y:1'), 'not a docker:// URL');
  assert.match(bad('docker://'), 'names no image');
  assert.match(bad('docker://quay.io/Upper/case'), '"Upper"');
  assert.match(bad('docker://quay.io/x//y'), 'path component ""');
  assert.match(bad('docker://quay.io/x/y:'), 'tag ""');
  assert.match(bad('docker://quay.io/x/y:-bad'), 'tag "-bad"');
  assert.match(bad('docker://quay.io/x/y@sha256:abc'), 'not sha256:<64 hex>');
  assert.match(bad(`docker://quay.io/x/y@md5:${'a'.repeat(32)}`), 'not sha256');
  assert.match(bad('docker://quay.io/x/y:1:2'), 'path component');
  assert.match(bad(`docker://quay.io/${'a'.repeat(300)}`), 'longer than 255');
  assert.match(bad('docker://bad_host.io:x/y'), 'registry host');
  // User info (never valid in a reference) is not echoed.
  assert.not.match(bad('docker://user:s3cret@quay.io/x/y'), 's3cret');
});

test('INSECURE_REGISTRIES: host[:port] entries, matched against the registry as written or its API host', () => {
  assert.equal(insecureRegistriesFromEnv({ INSECURE_REGISTRIES: ' 127.0.0.1:5000 , ,registry.local' }), [
    '127.0.0.1:5000',
    'registry.local',
  ]);
  assert.equal(insecureRegistriesFromEnv({}), []);
  assert.ok(isInsecureRegistry(ok('docker://127.0.0.1:5000/x:1'), ['127.0.0.1:5000']));
  assert.not.ok(isInsecureRegistry(ok('docker://127.0.0.1:5001/x:1'), ['127.0.0.1:5000']), 'another port');
  assert.not.ok(isInsecureRegistry(ok('docker://127.0.0.1:5000/x:1'), ['127.0.0.1']), 'the port is part of the entry');
  assert.ok(isInsecureRegistry(ok('docker://Registry.Local/x'), ['registry.local']));
  assert.ok(isInsecureRegistry(ok('docker://docker.io/x'), ['docker.io']));
  assert.not.ok(isInsecureRegistry(ok('docker://quay.io/x'), []));
});

test.run();
