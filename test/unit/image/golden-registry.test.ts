/**
 * Golden images of registry sources: keyed by the manifest digest (a re-pushed tag is a new
 * golden), importing exactly `name@digest`, and not cached at all when the digest is unknown.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ANN_GOLDEN_CONTENT, ANN_GOLDEN_SOURCE, describeSource, goldenKey, goldenName } from '../../../shared/image/golden.js';
import { factsFrom, goldenSizingFor, planGolden, type ImageFacts } from '../../../shared/image/golden-plan.js';
import type { MachineConfig } from '../../../shared/providerspec/types.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

/** Only what planGolden reads of a MachineConfig. */
function config(osImage: string, source = ''): MachineConfig {
  return {
    vm: {
      primaryDisk: { image: { osImage, source, pullMethod: 'node' }, size: '10Gi', storageClassName: 'longhorn', storageTarget: 'storage' },
      secondaryDisks: [],
    },
  } as unknown as MachineConfig;
}
const plan = (osImage: string, facts: ImageFacts) => planGolden(config(osImage), 'infra', 'ReadWriteOnce', facts);
const golden = (osImage: string, facts: ImageFacts) => {
  const p = plan(osImage, facts);
  if (p.kind !== 'golden') throw new Error(`no golden: ${JSON.stringify(p)}`);
  return p;
};

test('a tag with its digest: the key names the digest, the golden imports name@digest, the annotation shows the URL as given', () => {
  const p = golden('docker://quay.io/containerdisks/ubuntu:22.04', { content: { checksum: D1 } });
  assert.equal(p.dataVolume.spec.source, { registry: { url: `docker://quay.io/containerdisks/ubuntu@${D1}`, pullMethod: 'node' } });
  assert.is(p.dataVolume.metadata.annotations[ANN_GOLDEN_SOURCE], 'docker://quay.io/containerdisks/ubuntu:22.04');
  assert.equal(JSON.parse(p.dataVolume.metadata.annotations[ANN_GOLDEN_CONTENT]!), { checksum: D1 });
});

test('the tag re-pushed (another digest): another golden; the same digest: the same golden', () => {
  const url = 'docker://quay.io/containerdisks/ubuntu:22.04';
  const a = golden(url, { content: { checksum: D1 } }).name;
  assert.is(golden(url, { content: { checksum: D1 } }).name, a);
  assert.is.not(golden(url, { content: { checksum: D2 } }).name, a);
  // The key function itself: the checksum is part of it.
  const key = (checksum: string) =>
    goldenName(
      goldenKey({
        source: { registry: { url, pullMethod: 'node' } },
        storage: { target: 'storage', storageClassName: 'longhorn', accessMode: 'ReadWriteOnce' },
        content: { checksum },
        usableBytes: 10 * 1024 ** 3,
      }),
    );
  assert.is.not(key(D1), key(D2));
  assert.is(key(D1), a);
});

test('a digest-pinned URL: its own digest keys and pins it, without any facts', () => {
  const p = golden(`docker://ubuntu@${D1}`, { content: {} });
  assert.equal(p.dataVolume.spec.source, { registry: { url: `docker://ubuntu@${D1}`, pullMethod: 'node' } });
  assert.is(p.dataVolume.metadata.annotations[ANN_GOLDEN_SOURCE], `docker://ubuntu@${D1}`, 'not read as user info');
  assert.equal(JSON.parse(p.dataVolume.metadata.annotations[ANN_GOLDEN_CONTENT]!), { checksum: D1 });
  // tag + digest: containers/image refuses both, the golden imports name@digest.
  const both = golden(`docker://quay.io/x/y:1@${D2}`, { content: {} });
  assert.is((both.dataVolume.spec.source as { registry: { url: string } }).registry.url, `docker://quay.io/x/y@${D2}`);
});

test('no digest known, or the preflight says why not: no golden, with the reason', () => {
  const none = plan('docker://quay.io/containerdisks/ubuntu:22.04', { content: {} });
  assert.equal(none.kind, 'none');
  assert.match((none as { reason: string }).reason, 'manifest digest');
  const why = plan('docker://quay.io/containerdisks/ubuntu:22.04', { content: {}, uncached: 'registry quay.io answered 503' });
  assert.equal(why, { kind: 'none', reason: 'registry quay.io answered 503' });
  // An archive file (explicitly a registry source: machine-controller reads oci-archive:// as http otherwise).
  const archive = planGolden(config('oci-archive:///x.tar', 'registry'), 'infra', 'ReadWriteOnce', { content: { checksum: D1 } });
  assert.equal(archive.kind, 'none');
  assert.match((archive as { reason: string }).reason, 'archive');
  // No sizing refusal for an image that is not cached.
  assert.is(goldenSizingFor(config('docker://quay.io/x:1'), 'infra', { content: {}, uncached: 'x' }), undefined);
  // http images are untouched by this: their golden needs no digest.
  assert.is(plan('https://images.example/u.img', { content: { etag: '"a"' } }).kind, 'golden');
});

test('factsFrom: digest → checksum, uncached carried', () => {
  assert.equal(factsFrom({ ok: true, digest: D1 }), { content: { checksum: D1 } });
  assert.equal(factsFrom({ ok: true, uncached: 'why' }), { content: {}, uncached: 'why' });
});

test('describeSource: registry references as written, other URLs redacted', () => {
  assert.is(describeSource({ registry: { url: `docker://ubuntu@${D1}`, pullMethod: 'node' } }), `docker://ubuntu@${D1}`);
  assert.is(describeSource({ registry: { url: 'docker://quay.io/x:1', pullMethod: 'node' } }), 'docker://quay.io/x:1');
  assert.is(describeSource({ http: { url: 'https://u:p@images.example/x?sig=1' } }), 'https://images.example/x?…');
});

test.run();
