/**
 * `spec.dataVolumeTemplates` of the VirtualMachine: the primary OS disk and the secondary disks.
 */
import { toDataVolumeSource } from '../image/source.js';
import { dataVolumeStorage } from '../image/storage.js';
import type { MachineConfig } from '../providerspec/types.js';
import type { DataVolumeTemplate, StringMap } from './types.js';

/**
 * Name of secondary disk `index` (0-based): DataVolume, VMI disk and volume share it.
 * machine-controller's `addPrefixToSecondaryDisk`.
 */
export function secondaryDiskName(machineName: string, index: number): string {
  return `${machineName}-secondarydisk${index}`;
}

/** DataVolume names of a Machine's VM, as the builder names them. */
export const dataVolumeNames = (machineName: string, config: MachineConfig): string[] => [
  machineName,
  ...config.vm.secondaryDisks.map((_d, i) => secondaryDiskName(machineName, i)),
];

export interface DataVolumeTemplatesInput {
  machineName: string;
  /** The VM's namespace: clone source namespace for a bare PVC image name. */
  vmNamespace: string;
  config: MachineConfig;
  primaryAccessMode: string;
  /** `cdi.kubevirt.io*` Machine annotations; omitted from the metadata when empty. */
  primaryAnnotations: StringMap;
}

/**
 * `[0]` the primary disk (named like the Machine), then `<machine>-secondarydisk<i>` per
 * secondary disk, reproducing machine-controller's `getDataVolumeTemplates` including its quirks
 * (see below) so VMs we create are interchangeable with the ones it creates.
 */
export function buildDataVolumeTemplates(input: DataVolumeTemplatesInput): DataVolumeTemplate[] {
  const { config, machineName } = input;
  const primary = config.vm.primaryDisk;
  // One source value, copied per template so no two templates share an object.
  const source = toDataVolumeSource(primary.image, input.vmNamespace);

  const metadata: DataVolumeTemplate['metadata'] = { name: machineName };
  // Go's `map[string]string{}` with omitempty: no key at all when there is nothing to carry.
  if (Object.keys(input.primaryAnnotations).length > 0) {
    metadata.annotations = { ...input.primaryAnnotations };
  }
  const templates: DataVolumeTemplate[] = [
    {
      metadata,
      spec: {
        source: structuredClone(source),
        // `pvc` only when asked for; anything else (including empty) is `storage` (fd8ed7696).
        ...dataVolumeStorage(
          { size: primary.size, storageClassName: primary.storageClassName, accessMode: input.primaryAccessMode },
          primary.storageTarget === 'pvc' ? 'pvc' : 'storage',
        ),
      },
    },
  ];

  config.vm.secondaryDisks.forEach((disk, i) => {
    templates.push({
      metadata: { name: secondaryDiskName(machineName, i) },
      spec: {
        // Quirk: machine-controller gives every secondary disk the OS image source, so each one
        // is a full copy of the OS image rather than a blank disk. Reproduced so a VM we build
        // matches one machine-controller builds for the same Machine.
        source: structuredClone(source),
        // Quirks: always `spec.pvc` (storageTarget applies to the primary only), and the
        // PRIMARY disk's access mode — machine-controller resolves each secondary disk's own
        // mode but never uses it.
        ...dataVolumeStorage({ size: disk.size, storageClassName: disk.storageClassName, accessMode: input.primaryAccessMode }, 'pvc'),
      },
    });
  });
  return templates;
}
