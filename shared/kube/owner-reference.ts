/** metav1.OwnerReference, including `blockOwnerDeletion`, which our controller references set. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}
