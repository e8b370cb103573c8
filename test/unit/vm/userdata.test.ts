import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { buildUserdataSecret, builtinCloudInit, userdataFromOsm } from '../../../shared/vm/userdata.js';

test('userdataFromOsm replaces the placeholder in plain and query-escaped form', () => {
  const osm = [
    '#cloud-config',
    'hostname: <MACHINE_NAME>',
    'write_files:',
    '- contents: "data:,%3CMACHINE_NAME%3E"',
    '- path: /etc/<MACHINE_NAME>/<MACHINE_NAME>',
  ].join('\n');
  assert.is(
    userdataFromOsm(osm, 'md-abc-xyz'),
    ['#cloud-config', 'hostname: md-abc-xyz', 'write_files:', '- contents: "data:,md-abc-xyz"', '- path: /etc/md-abc-xyz/md-abc-xyz'].join(
      '\n',
    ),
  );
});

test('userdataFromOsm empties whitespace-only lines and keeps everything else', () => {
  const osm = 'a: 1\n  \n\t\n\nb: |\n  text  \n \t \nc: 2\n';
  assert.is(userdataFromOsm(osm, 'm'), 'a: 1\n\n\n\nb: |\n  text  \n\nc: 2\n');
});

test('userdataFromOsm leaves a whitespace line ending in CR alone, like Go`s (?m)$', () => {
  assert.is(userdataFromOsm('a\r\n  \r\nb', 'm'), 'a\r\n  \r\nb');
});

test('userdataFromOsm query-escapes the name in the escaped placeholder as Go does', () => {
  // Not a valid Machine name, but shows the escaping rule (space → +, ! escaped).
  assert.is(userdataFromOsm('%3CMACHINE_NAME%3E', 'a b!'), 'a+b%21');
});

test('builtinCloudInit: a #cloud-config with hostname and keys, password login off', () => {
  const out = builtinCloudInit({ hostname: 'vm-1', sshPublicKeys: ['ssh-ed25519 AAAA key: one #1'], os: 'ubuntu' });
  assert.ok(out.startsWith('#cloud-config\n'));
  assert.equal(parse(out), {
    hostname: 'vm-1',
    ssh_pwauth: false,
    ssh_authorized_keys: ['ssh-ed25519 AAAA key: one #1'],
  });
});

test('builtinCloudInit without keys omits ssh_authorized_keys', () => {
  const out = builtinCloudInit({ hostname: 'vm-1', sshPublicKeys: [], os: 'rockylinux' });
  assert.equal(parse(out), { hostname: 'vm-1', ssh_pwauth: false });
});

test('builtinCloudInit for flatcar: Ignition JSON with the core user and /etc/hostname', () => {
  const out = builtinCloudInit({ hostname: 'fc-1', sshPublicKeys: ['ssh-rsa AAA'], os: 'flatcar' });
  const ign = JSON.parse(out);
  assert.is(ign.ignition.version, '3.3.0');
  assert.equal(ign.passwd.users, [{ name: 'core', sshAuthorizedKeys: ['ssh-rsa AAA'] }]);
  assert.equal(ign.storage.files, [{ path: '/etc/hostname', mode: 420, overwrite: true, contents: { source: 'data:,fc-1' } }]);
});

test('buildUserdataSecret: base64 data under key userdata, labels copied', () => {
  const labels = { own: 'x' };
  const s = buildUserdataSecret({ name: 'userdata-m-1', namespace: 'infra', userdata: '#cloud-config\nä', labels });
  assert.equal(s, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'userdata-m-1', namespace: 'infra', labels: { own: 'x' } },
    type: 'Opaque',
    data: { userdata: Buffer.from('#cloud-config\nä').toString('base64') },
  });
  assert.not.ok(s.metadata.labels === labels);
  assert.is(Buffer.from(s.data.userdata!, 'base64').toString('utf8'), '#cloud-config\nä');
});

test('buildUserdataSecret with an owner: the VM is its controller (garbage-collected with it)', () => {
  const s = buildUserdataSecret({ name: 'u', namespace: 'n', userdata: '', labels: {}, owner: { name: 'vm', uid: 'uid-1' } });
  assert.equal(s.metadata.ownerReferences, [
    { apiVersion: 'kubevirt.io/v1', kind: 'VirtualMachine', name: 'vm', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
  ]);
});

test.run();
