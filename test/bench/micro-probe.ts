import { parseProviderSpec } from '../../shared/spec/parse.ts';
import { offlineResolver } from '../../shared/spec/configvar.ts';
import { buildFollowUp, FollowUpType } from '../../events/followup.ts';
import { decodeCloudEvent } from '../../events/decode.ts';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
const kc = `apiVersion: v1\nclusters:\n- name: c\n  cluster: {server: "https://1.2.3.4:6443", certificate-authority-data: ${Buffer.from('x'.repeat(1200)).toString('base64')}}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {token: ${'a'.repeat(900)}}\n`;
const text = readFileSync('/work/shared/fixtures/machine-controller/examples/kubevirt-machinedeployment.yaml','utf8').replaceAll('<< KUBECONFIG_BASE64 >>', Buffer.from(kc).toString('base64')).replace(/<< [A-Z_]+ >>/g,'x');
const value = parseAllDocuments(text)[0].toJS().spec.template.spec.providerSpec.value;
const r = offlineResolver({});
async function time(name: string, fn: () => unknown, n = 200) { for (let i=0;i<20;i++) await fn(); const t = performance.now(); for (let i=0;i<n;i++) await fn(); console.log(name, ((performance.now()-t)/n).toFixed(3), 'ms'); }
await time('parseProviderSpec', () => parseProviderSpec(value, r));
await time('buildFollowUp', () => buildFollowUp(FollowUpType.deleted, { machine: { namespace: 'a', name: 'b', uid: 'c' } }, { function: 'machine' }));
const body = JSON.stringify({ apiVersion: 'cluster.k8s.io/v1alpha1', kind: 'Machine', metadata: { name: 'm', namespace: 'd' }, spec: { providerSpec: { value } } });
await time('decodeCloudEvent', () => decodeCloudEvent({ 'content-type': 'application/json', 'ce-id': '1', 'ce-source': 's', 'ce-specversion': '1.0', 'ce-type': 'dev.knative.apiserver.resource.add' }, body));
