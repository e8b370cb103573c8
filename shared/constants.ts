/**
 * Labels, annotations, finalizers and reasons, each defined once.
 * Values that machine-controller also uses keep its spelling so tools that read
 * machine-controller's objects keep working.
 */

/** Our field manager for every server-side apply. One name, so applies are idempotent. */
export const FIELD_MANAGER = 'kubevirt-machine-functions';

/** Finalizer held on a Machine until its VM, DataVolumes and userdata Secret are proven gone. */
export const MACHINE_FINALIZER = 'kubevirt-machine-functions.io/machine';

/** Ownership labels on every infra object we create. No label → not ours → never touched. */
export const LABEL_MACHINE_UID = 'kubevirt-machine-functions.io/machine-uid';
export const LABEL_MACHINE_NAMESPACE = 'kubevirt-machine-functions.io/machine-namespace';
export const LABEL_MACHINE_NAME = 'kubevirt-machine-functions.io/machine-name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kubevirt-machine-functions';

/** machine-controller's labels on the VirtualMachine and its VMI template. */
export const LABEL_VM = 'kubevirt.io/vm';
export const LABEL_MD = 'md';
export const LABEL_CLUSTER_NAME = 'cluster.x-k8s.io/cluster-name';
export const LABEL_ROLE = 'cluster.x-k8s.io/role';
export const LABEL_PROJECT_ID = 'kubermatic.k8c.io/project-id';
export const LABEL_CLUSTER_ID = 'kubermatic.k8c.io/cluster-id';
export const LABEL_TOPOLOGY_REGION = 'topology.kubernetes.io/region';
export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';

/** Template annotations machine-controller sets. */
export const ANN_POD_BRIDGE_LIVE_MIGRATION = 'kubevirt.io/allow-pod-bridge-network-live-migration';
export const ANN_OVN_LIVE_MIGRATION = 'ovn.kubernetes.io/allow_live_migration';
export const ANN_OVN_LOGICAL_SWITCH = 'ovn.kubernetes.io/logical_switch';
export const ANN_IGNITION = 'kubevirt.io/ignitiondata';
export const ANN_PCI_ON_ROOT_COMPLEX = 'kubevirt.io/placePCIDevicesOnRootComplex';
/** Machine annotations with this prefix go to the primary DataVolume template, not the VMI. */
export const CDI_ANNOTATION_PREFIX = 'cdi.kubevirt.io';

/** operating-system-manager's userdata contract (namespace and Secret key). */
export const OSM_NAMESPACE = 'cloud-init-settings';
export const OSM_SECRET_KEY = 'cloud-config';
export const OSM_REVISION_ANNOTATION = 'k8c.io/machine-deployment-revision';
/** Key virt-launcher reads from the cloudInitNoCloud Secret. */
export const USERDATA_SECRET_KEY = 'userdata';

/** machine-controller's scale-down hint and revision annotations. */
export const ANN_DELETE_MACHINE = 'cluster.k8s.io/delete-machine';
export const ANN_MD_REVISION = 'machinedeployment.clusters.k8s.io/revision';
export const ANN_MD_REVISION_HISTORY = 'machinedeployment.clusters.k8s.io/revision-history';
export const ANN_MD_DESIRED_REPLICAS = 'machinedeployment.clusters.k8s.io/desired-replicas';
export const ANN_MD_MAX_REPLICAS = 'machinedeployment.clusters.k8s.io/max-replicas';
export const LABEL_MACHINE_TEMPLATE_HASH = 'machine-template-hash';
/** kubectl's client-side-apply record; never copied from a MachineDeployment to its MachineSets. */
export const ANN_LAST_APPLIED_CONFIG = 'kubectl.kubernetes.io/last-applied-configuration';
/** metav1.FinalizerDeleteDependents: machine-controller puts it on MDs and passes it to their MSs. */
export const FINALIZER_DELETE_DEPENDENTS = 'foregroundDeletion';

/** Machine `status.errorReason` values (machine-controller's `common.MachineStatusError`). */
export const ErrorReason = {
  InvalidConfiguration: 'InvalidConfiguration',
  CreateError: 'CreateError',
  DeleteError: 'DeleteError',
  /** Ours: an infra object of the target name exists and is not ours. */
  NameCollision: 'NameCollision',
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

/** Default infra namespace when neither the spec (flat schema) nor POD_NAMESPACE names one. */
export const DEFAULT_INFRA_NAMESPACE = 'kube-system';
