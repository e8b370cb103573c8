/**
 * Table tests for the VMI classifier and address extraction against the KubeVirt reference
 * (/work/shared/reference/cdi-kubevirt.md §6).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyVmi, stripPrefix, vmiAddresses, VmiReason, type VmiClassification, type VmiLike } from '../../../shared/status/vmi.js';

type Status = NonNullable<VmiLike['status']>;
type Iface = NonNullable<Status['interfaces']>[number];

const vmi = (status?: Status, metadata: Partial<VmiLike['metadata']> = {}): VmiLike => ({
  metadata: { name: 'm2', namespace: 'machines', ...metadata },
  status,
});

/** §6 "Real running VMI" (condensed to the fields VmiLike reads). */
const REAL_RUNNING: Status = {
  phase: 'Running',
  nodeName: 'kubevirt-nn4bm-worker-srxr9',
  conditions: [
    { type: 'Ready', status: 'True' },
    {
      type: 'LiveMigratable',
      status: 'False',
      reason: 'DisksNotLiveMigratable',
      message: 'cannot migrate VMI: PVC fedora02 is not shared, ...',
    },
    { type: 'AgentConnected', status: 'True' },
  ],
  interfaces: [{ name: 'default', ipAddress: '10.131.0.169', ipAddresses: ['10.131.0.169'] }],
};

// ─── classifyVmi ────────────────────────────────────────────────────────────────────────────

interface Row {
  name: string;
  vmi: VmiLike;
  expect: Pick<VmiClassification, 'state' | 'reason'> & Partial<VmiClassification>;
  messageIncludes?: string;
}

const ROWS: Row[] = [
  { name: 'no status (phase "")', vmi: vmi(), expect: { state: 'pending', reason: VmiReason.Pending, addresses: [] } },
  { name: 'Pending', vmi: vmi({ phase: 'Pending' }), expect: { state: 'pending', reason: VmiReason.Pending, addresses: [] } },
  { name: 'Scheduling', vmi: vmi({ phase: 'Scheduling' }), expect: { state: 'pending', reason: VmiReason.Scheduling } },
  {
    name: 'Scheduled (names the node)',
    vmi: vmi({ phase: 'Scheduled', nodeName: 'worker-1' }),
    expect: { state: 'pending', reason: VmiReason.Scheduled },
    messageIncludes: 'worker-1',
  },
  {
    name: 'Running, Ready True (reference VMI)',
    vmi: vmi(REAL_RUNNING),
    expect: { state: 'ready', reason: VmiReason.Ready, addresses: ['10.131.0.169'] },
  },
  {
    name: 'Running, Ready False / GuestNotRunning',
    vmi: vmi({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', reason: 'GuestNotRunning' }],
      interfaces: [{ name: 'default', ipAddress: '10.244.0.23' }],
    }),
    expect: { state: 'running', reason: VmiReason.RunningNotReady, addresses: ['10.244.0.23'] },
    messageIncludes: 'GuestNotRunning',
  },
  {
    name: 'Running, Ready Unknown',
    vmi: vmi({ phase: 'Running', conditions: [{ type: 'Ready', status: 'Unknown' }] }),
    expect: { state: 'running', reason: VmiReason.RunningNotReady },
  },
  {
    name: 'Running, Ready condition missing (other conditions present)',
    vmi: vmi({ phase: 'Running', conditions: [{ type: 'AgentConnected', status: 'True' }] }),
    expect: { state: 'running', reason: VmiReason.RunningNotReady },
  },
  {
    name: 'Running, no conditions at all',
    vmi: vmi({ phase: 'Running' }),
    expect: { state: 'running', reason: VmiReason.RunningNotReady, addresses: [] },
  },
  { name: 'Succeeded (guest shut down)', vmi: vmi({ phase: 'Succeeded' }), expect: { state: 'stopped', reason: VmiReason.Succeeded } },
  {
    name: 'Failed with status.reason',
    vmi: vmi({ phase: 'Failed', reason: 'NodeUnresponsive', conditions: [{ type: 'Ready', status: 'False', reason: 'PodTerminating' }] }),
    expect: { state: 'failed', reason: VmiReason.Failed, message: 'VirtualMachineInstance machines/m2 failed: NodeUnresponsive' },
  },
  {
    name: 'Failed without status.reason falls back to the Ready condition',
    vmi: vmi({ phase: 'Failed', conditions: [{ type: 'Ready', status: 'False', reason: 'PodNotExists' }] }),
    expect: { state: 'failed', reason: VmiReason.Failed, message: 'VirtualMachineInstance machines/m2 failed: PodNotExists' },
  },
  {
    name: 'Failed with nothing to say',
    vmi: vmi({ phase: 'Failed' }),
    expect: { state: 'failed', reason: VmiReason.Failed, message: 'VirtualMachineInstance machines/m2 failed' },
  },
  { name: 'Unknown', vmi: vmi({ phase: 'Unknown' }), expect: { state: 'pending', reason: VmiReason.Unknown }, messageIncludes: 'Unknown' },
  {
    name: 'WaitingForSync (decentralized migration)',
    vmi: vmi({ phase: 'WaitingForSync' }),
    expect: { state: 'pending', reason: VmiReason.Unknown },
    messageIncludes: 'WaitingForSync',
  },
  {
    name: 'deletion of a running, ready VMI (addresses still reported)',
    vmi: vmi(REAL_RUNNING, { deletionTimestamp: '2025-06-01T12:00:00Z' }),
    expect: { state: 'deleting', reason: VmiReason.Deleting, addresses: ['10.131.0.169'] },
  },
  {
    name: 'deletion of a failed VMI',
    vmi: vmi({ phase: 'Failed', reason: 'NodeUnresponsive' }, { deletionTimestamp: '2025-06-01T12:00:00Z' }),
    expect: { state: 'deleting', reason: VmiReason.Deleting },
  },
];

for (const row of ROWS) {
  test(`classifyVmi: ${row.name}`, () => {
    const got = classifyVmi(row.vmi);
    for (const [key, want] of Object.entries(row.expect)) {
      assert.equal(got[key as keyof VmiClassification], want, `${row.name}: ${key} (got ${JSON.stringify(got)})`);
    }
    if (row.messageIncludes !== undefined) assert.ok(got.message.includes(row.messageIncludes), `${row.name}: ${got.message}`);
    assert.equal(got.addresses, vmiAddresses(row.vmi), `${row.name}: addresses = vmiAddresses`);
  });
}

// ─── vmiAddresses ───────────────────────────────────────────────────────────────────────────

const ADDRESS_ROWS: [name: string, interfaces: Iface[] | undefined, want: string[]][] = [
  ['interfaces missing', undefined, []],
  ['interfaces empty (guest agent unreachable)', [], []],
  ['interface without any IP', [{ name: 'default' }], []],
  [
    'ipAddress and ipAddresses[0] de-duplicated',
    [{ name: 'default', ipAddress: '10.131.0.169', ipAddresses: ['10.131.0.169'] }],
    ['10.131.0.169'],
  ],
  ['only ipAddresses', [{ name: 'default', ipAddresses: ['10.244.0.23'] }], ['10.244.0.23']],
  ['only ipAddress', [{ name: 'default', ipAddress: '10.244.0.23' }], ['10.244.0.23']],
  ['pre-2021 /prefix stripped', [{ name: 'default', ipAddress: '10.244.0.23/24' }], ['10.244.0.23']],
  [
    '/prefix stripped before de-duplication',
    [{ name: 'default', ipAddress: '10.244.0.23/24', ipAddresses: ['10.244.0.23/24', '10.244.0.23'] }],
    ['10.244.0.23'],
  ],
  [
    'dual stack, IPv6 /prefix stripped',
    [{ name: 'default', ipAddress: '10.244.0.23', ipAddresses: ['10.244.0.23', 'fd10:244::17/64'] }],
    ['10.244.0.23', 'fd10:244::17'],
  ],
  ['empty strings skipped', [{ name: 'default', ipAddress: '', ipAddresses: ['', '10.0.0.5', ' '] }], ['10.0.0.5']],
  ['bare "/24" skipped', [{ name: 'default', ipAddress: '/24' }], []],
  [
    'multiple interfaces, in interface order',
    [
      { name: 'default', ipAddress: '10.244.0.23', ipAddresses: ['10.244.0.23'] },
      { name: 'secondary', ipAddress: '192.168.100.5/24', ipAddresses: ['192.168.100.5/24', '192.168.100.6'] },
      { name: 'third', ipAddresses: ['172.16.0.9'] },
    ],
    ['10.244.0.23', '192.168.100.5', '192.168.100.6', '172.16.0.9'],
  ],
  [
    'an IP repeated on a later interface keeps its first position',
    [
      { name: 'secondary', ipAddress: '192.168.100.5' },
      { name: 'default', ipAddress: '10.244.0.23', ipAddresses: ['10.244.0.23', '192.168.100.5'] },
    ],
    ['192.168.100.5', '10.244.0.23'],
  ],
  [
    'an interface without IPs between others is skipped',
    [
      { name: 'default', ipAddress: '10.244.0.23' },
      { name: 'down', ipAddresses: [] },
      { name: 'third', ipAddress: '172.16.0.9' },
    ],
    ['10.244.0.23', '172.16.0.9'],
  ],
];

for (const [name, interfaces, want] of ADDRESS_ROWS) {
  test(`vmiAddresses: ${name}`, () => {
    assert.equal(vmiAddresses(vmi({ phase: 'Running', ...(interfaces ? { interfaces } : {}) })), want);
  });
}

test('vmiAddresses: no status at all → []', () => {
  assert.equal(vmiAddresses(vmi()), []);
});

// ─── stripPrefix ────────────────────────────────────────────────────────────────────────────

const STRIP_ROWS: [input: string | undefined, want: string | undefined][] = [
  ['10.244.0.23/24', '10.244.0.23'],
  ['10.244.0.23', '10.244.0.23'],
  ['fd10:244::17/64', 'fd10:244::17'],
  [' 10.0.0.5 ', '10.0.0.5'],
  ['', undefined],
  ['   ', undefined],
  ['/24', undefined],
  [undefined, undefined],
];

for (const [input, want] of STRIP_ROWS) {
  test(`stripPrefix(${JSON.stringify(input)}) → ${JSON.stringify(want)}`, () => {
    assert.is(stripPrefix(input), want);
  });
}

test.run();
