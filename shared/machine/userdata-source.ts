/**
 * Where a Machine's userdata comes from: operating-system-manager's bootstrap Secret when the
 * Machine belongs to a MachineDeployment and OSM has written one, else our built-in cloud-init.
 */
import { ApiError, type KubeClient } from '../kube/rest.js';
import { MACHINE_SET, SECRET, objectPath } from '../kube/paths.js';
import { ANN_MD_REVISION, OSM_NAMESPACE, OSM_REVISION_ANNOTATION, OSM_SECRET_KEY } from '../constants.js';
import { builtinCloudInit, userdataFromOsm } from '../vm/userdata.js';
import type { MachineConfig } from '../providerspec/types.js';
import { owningMachineSet, type Machine } from './types.js';

export type UserdataResult =
  | { kind: 'ready'; userdata: string; origin: 'osm' | 'builtin'; machineDeploymentName?: string }
  /** OSM's Secret exists but is for another MachineDeployment revision: wait for OSM. */
  | { kind: 'not-ready'; message: string };

interface MachineSetObj {
  metadata: { annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
}

export async function resolveUserdata(kube: KubeClient, m: Machine, config: MachineConfig): Promise<UserdataResult> {
  const msRef = owningMachineSet(m);
  let mdName: string | undefined;
  let revision: string | undefined;
  if (msRef) {
    const ms = await kube.get<MachineSetObj>(objectPath(MACHINE_SET, m.metadata.namespace, msRef.name));
    mdName = ms?.metadata.ownerReferences?.find((o) => o.kind === 'MachineDeployment')?.name;
    revision = ms?.metadata.annotations?.[ANN_MD_REVISION];
  }
  const hostname = m.spec?.name || m.metadata.name;
  if (mdName) {
    const secretName = `${mdName}-${m.metadata.namespace}-bootstrap-config`;
    // 403: no RoleBinding lets us read OSM's namespace (knative/optional/machine-references-osm.yaml
    // grants it where operating-system-manager runs): as without OSM, the built-in cloud-init.
    const s = await kube
      .get<{ metadata: { annotations?: Record<string, string> }; data?: Record<string, string> }>(
        objectPath(SECRET, OSM_NAMESPACE, secretName),
      )
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 403) return undefined;
        throw e;
      });
    if (s?.data?.[OSM_SECRET_KEY] !== undefined) {
      const osmRevision = s.metadata.annotations?.[OSM_REVISION_ANNOTATION];
      if (revision && osmRevision !== undefined && osmRevision !== revision) {
        return { kind: 'not-ready', message: 'cloud-init configuration: cloud config "bootstrap" is not ready yet' };
      }
      const text = Buffer.from(s.data[OSM_SECRET_KEY], 'base64').toString('utf8');
      return { kind: 'ready', userdata: userdataFromOsm(text, hostname), origin: 'osm', machineDeploymentName: mdName };
    }
  }
  return {
    kind: 'ready',
    userdata: builtinCloudInit({ hostname, sshPublicKeys: config.sshPublicKeys, os: config.operatingSystem }),
    origin: 'builtin',
    machineDeploymentName: mdName,
  };
}
