/**
 * Checks beyond machine-controller's own validation, for values it accepts but from which it
 * would build a VirtualMachine, DataVolume or Secret that cannot work: zero or absurd
 * quantities, names the API server refuses, values outside the enums KubeVirt and Kubernetes
 * know. Each failure names the field (in the schema the spec uses) and the value.
 */
import { isIP } from 'node:net';
import type { SpecReport } from './issues.js';
import { parseQuantity } from './quantity.js';
import type { MachineConfig } from './types.js';
import { parseRequestURI } from '../image/request-uri.js';

/** Bounds far beyond any VM, but finite: `1e1000000` CPUs or `9Ei` of memory are typos. */
const MAX_CPUS = 1024;
const MAX_MEMORY_BYTES = 64 * 2 ** 40; // 64 TiB
const MAX_DISK_BYTES = 2 ** 50; // 1 PiB

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];
const WHEN_UNSATISFIABLE = ['DoNotSchedule', 'ScheduleAnyway'];
const INSTANCETYPE_KINDS = ['VirtualMachineInstancetype', 'VirtualMachineClusterInstancetype'];
const PREFERENCE_KINDS = ['VirtualMachinePreference', 'VirtualMachineClusterPreference'];

export const isDns1123Label = (s: string): boolean => s.length <= 63 && DNS1123_LABEL.test(s);
export const isDns1123Subdomain = (s: string): boolean => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
export const isLabelValue = (s: string): boolean => s.length <= 63 && LABEL_VALUE.test(s);

/** A label key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 characters. */
export function isLabelKey(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.at(-1)!;
  const prefix = parts.length === 2 ? parts[0]! : undefined;
  return name.length <= 63 && LABEL_NAME.test(name) && (prefix === undefined || isDns1123Subdomain(prefix));
}

/** Where each model field sits in the spec, per schema. */
function pathsFor(schema: 'nested' | 'flat') {
  const root = 'cloudProviderSpec';
  if (schema === 'flat') {
    return {
      cpus: `${root}.cpus`,
      memory: `${root}.memory`,
      size: `${root}.pvcSize`,
      storageClassName: `${root}.storageClassName`,
      storageAccessType: `${root}.storageAccessType`,
      osImage: `${root}.sourceURL`,
      namespace: `${root}.namespace`,
      secondary: (i: number, f: string) => `${root}.secondaryDisks[${i}].${f}`,
    };
  }
  const tpl = `${root}.virtualMachine.template`;
  return {
    cpus: `${tpl}.cpus`,
    memory: `${tpl}.memory`,
    size: `${tpl}.primaryDisk.size`,
    storageClassName: `${tpl}.primaryDisk.storageClassName`,
    storageAccessType: `${tpl}.primaryDisk.storageAccessType`,
    osImage: `${tpl}.primaryDisk.osImage`,
    namespace: `${root}.namespace`,
    secondary: (i: number, f: string) => `${tpl}.secondaryDisks[${i}].${f}`,
  };
}

function checkQuantityRange(report: SpecReport, path: string, text: string | undefined, max: number, what: string): void {
  if (text === undefined) return;
  let approx: number;
  try {
    approx = parseQuantity(text).approx;
  } catch {
    return; // machine-controller's own check already reported it
  }
  if (!(approx > 0)) report.fail(path, text, `${what} must be greater than zero`);
  else if (!Number.isFinite(approx) || approx > max) report.fail(path, text, `${what} is out of range (at most ${max})`);
}

function checkDisk(
  report: SpecReport,
  disk: { size: string; storageClassName: string; storageAccessType?: string },
  at: { size: string; storageClassName: string; storageAccessType: string },
): void {
  checkQuantityRange(report, at.size, disk.size, MAX_DISK_BYTES, 'the disk size');
  if (disk.storageClassName !== '' && !isDns1123Subdomain(disk.storageClassName)) {
    report.fail(at.storageClassName, disk.storageClassName, 'a storage class name must be a lowercase DNS-1123 subdomain');
  }
  if (disk.storageAccessType !== undefined && disk.storageAccessType !== '' && !ACCESS_MODES.includes(disk.storageAccessType)) {
    report.fail(at.storageAccessType, disk.storageAccessType, `unsupported access type; one of ${ACCESS_MODES.join(', ')}`);
  }
}

/** Reports every value machine-controller would accept and build a broken object from. */
export function checkSanity(report: SpecReport, config: MachineConfig, schema: 'nested' | 'flat'): void {
  const p = pathsFor(schema);
  const vm = config.vm;
  const root = 'cloudProviderSpec';
  if (vm.resources) {
    checkQuantityRange(report, p.cpus, vm.resources.cpu, MAX_CPUS, 'the CPU count');
    checkQuantityRange(report, p.memory, vm.resources.memory, MAX_MEMORY_BYTES, 'the memory size');
  }
  if (vm.cores !== undefined && vm.cores > MAX_CPUS) {
    report.fail(`${root}.virtualMachine.template.vcpus.cores`, vm.cores, `vcpus.cores is out of range (at most ${MAX_CPUS})`);
  }
  checkDisk(report, vm.primaryDisk, p);
  vm.secondaryDisks.forEach((d, i) =>
    checkDisk(report, d, {
      size: p.secondary(i, 'size'),
      storageClassName: p.secondary(i, 'storageClassName'),
      storageAccessType: p.secondary(i, 'storageAccessType'),
    }),
  );
  if (config.namespace !== undefined && config.namespace !== '' && !isDns1123Label(config.namespace)) {
    report.fail(p.namespace, config.namespace, 'a namespace must be a lowercase DNS-1123 label');
  }
  if (!isLabelValue(config.clusterName)) {
    report.fail(
      `${root}.clusterName`,
      config.clusterName,
      'the cluster name becomes a label value: at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends',
    );
  }
  checkImage(report, vm.primaryDisk.image.osImage, vm.primaryDisk.image.source, p.osImage);
  for (const [what, value] of Object.entries(vm.location ?? {})) {
    if (value && !isLabelValue(value))
      report.fail(`${root}.virtualMachine.location.${what}`, value, `the ${what} becomes a topology label value: not a valid label value`);
  }
  for (const [kind, path, kinds] of [
    [vm.instancetype?.kind, `${root}.virtualMachine.instancetype.kind`, INSTANCETYPE_KINDS],
    [vm.preference?.kind, `${root}.virtualMachine.preference.kind`, PREFERENCE_KINDS],
  ] as const) {
    if (kind !== undefined && !kinds.some((k) => k.toLowerCase() === kind.toLowerCase())) {
      report.fail(path, kind, `unsupported kind; one of ${kinds.join(', ')}`);
    }
  }
  vm.dnsConfig?.nameservers?.forEach((ns, i) => {
    if (!isIP(ns)) report.fail(`${root}.virtualMachine.dnsConfig.nameservers[${i}]`, ns, 'a nameserver must be an IP address');
  });
  if (vm.nodeAffinity && !isLabelKey(vm.nodeAffinity.key)) {
    report.fail(`${root}.affinity.nodeAffinityPreset.key`, vm.nodeAffinity.key, 'not a valid label key');
  }
  vm.topologySpreadConstraints.forEach((c, i) => {
    const at = `${root}.topologySpreadConstraints[${i}]`;
    if (c.maxSkew < 1) report.fail(`${at}.maxSkew`, c.maxSkew, 'maxSkew must be at least 1');
    if (!isLabelKey(c.topologyKey)) report.fail(`${at}.topologyKey`, c.topologyKey, 'not a valid label key');
    // '' is machine-controller's default (the builder fills it in); anything else must be Kubernetes'.
    if (c.whenUnsatisfiable !== '' && !WHEN_UNSATISFIABLE.includes(c.whenUnsatisfiable)) {
      report.fail(`${at}.whenUnsatisfiable`, c.whenUnsatisfiable, `unsupported value; one of ${WHEN_UNSATISFIABLE.join(', ')}`);
    }
  });
}

/**
 * The image reference: an http(s)/registry URL, or a PVC as `namespace/name` or `name`. Text
 * that is neither (a typo such as `not a url`) would become a clone of a PVC that cannot exist.
 */
function checkImage(report: SpecReport, osImage: string, source: string, path: string): void {
  const uri = parseRequestURI(osImage);
  const asPvc = osImage.split('/');
  const pvcOk = asPvc.length <= 2 && asPvc.every((part, i) => (i === asPvc.length - 1 ? isDns1123Subdomain(part) : isDns1123Label(part)));
  if (source === 'pvc') {
    if (!pvcOk)
      report.fail(path, osImage, 'a pvc image source must be `namespace/name` or `name` of a PersistentVolumeClaim or DataVolume');
    return;
  }
  if (source === 'http' || source === 'registry') {
    if (!uri.ok) report.fail(path, osImage, `not a valid URL for a ${source} image source`);
    return;
  }
  if (!uri.ok && !pvcOk) report.fail(path, osImage, 'neither a valid image URL nor a PVC `namespace/name`');
  else if (uri.ok && !['http', 'https', 'docker', 'oci'].includes(uri.scheme)) {
    report.fail(path, osImage, `unsupported URL scheme ${JSON.stringify(uri.scheme)}: http, https, docker or oci`);
  }
}
