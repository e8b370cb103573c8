/** metav1.OwnerReference, including `blockOwnerDeletion`, which our controller references set. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** `metav1.NewControllerRef(obj, kind)`: the controlling owner reference to `obj`. */
export function controllerRef(kind: { apiVersion: string; kind: string }, meta: { name: string; uid?: string }): OwnerReference {
  return { apiVersion: kind.apiVersion, kind: kind.kind, name: meta.name, uid: meta.uid ?? '', controller: true, blockOwnerDeletion: true };
}
