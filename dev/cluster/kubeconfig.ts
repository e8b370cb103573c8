/**
 * Kubeconfig documents with everything embedded (no file references), so a kubeconfig
 * stays valid when copied and client-node/kubectl need nothing but the one file.
 */
import { stringify } from 'yaml';

export type KubeconfigUser = { clientCertPem: string; clientKeyPem: string } | { token: string };

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** A single-context kubeconfig for `server`, trusting `caPem`, authenticating as `user`. */
export function kubeconfigYaml(server: string, caPem: string, userName: string, user: KubeconfigUser, namespace?: string): string {
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': b64(user.clientCertPem), 'client-key-data': b64(user.clientKeyPem) };
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kmf-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: userName, user: credentials }],
    contexts: [{ name: userName, context: { cluster: 'kmf-test', user: userName, ...(namespace ? { namespace } : {}) } }],
    'current-context': userName,
    preferences: {},
  });
}
