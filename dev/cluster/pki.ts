/**
 * Throwaway PKI for one control plane: a CA, the apiserver's and the admission webhook's
 * serving certs (both for 127.0.0.1), client certs and the service-account signing key pair.
 *
 * Certificates come from the `openssl` CLI because node:crypto can parse X.509 but not
 * sign it. Keys are EC P-256 (fast to generate); the service-account key is RSA 2048,
 * the algorithm (RS256) every token consumer supports.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A PEM certificate with its private key, and where both were written. */
export interface CertPair {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface Pki {
  ca: CertPair;
  serving: CertPair;
  /** CN=admin, O=system:masters: bypasses RBAC, like envtest's admin user. */
  admin: CertPair;
  /** kube-controller-manager's own identity; see control-plane.ts for why it is a master. */
  controllerManager: CertPair;
  /** Serving cert of the KubeVirt/CDI admission webhook (127.0.0.1), trusted via the CA as its caBundle. */
  admissionWebhook: CertPair;
  /** Public key for --service-account-key-file (token verification). */
  saPublicKeyFile: string;
  /** Private key for --service-account-signing-key-file and the token controller. */
  saPrivateKeyFile: string;
}

// One self-contained config so the distribution's openssl.cnf defaults (e.g. CA:TRUE on
// every `req -x509`) cannot leak into leaf certificates.
const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
// A week: long enough for any test run or `npm run cluster -- start` session.
const DAYS = '7';

async function readPair(dir: string, name: string): Promise<CertPair> {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  return { certFile, keyFile, certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8') };
}

async function issue(dir: string, cnf: string, name: string, subject: string, profile: 'serving' | 'client'): Promise<CertPair> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  await run('openssl', ['req', '-config', cnf, '-new', ...EC_KEY, '-keyout', key, '-out', csr, '-subj', subject]);
  const serial = `0x1${randomBytes(15).toString('hex')}`;
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    path.join(dir, 'ca.crt'),
    '-CAkey',
    path.join(dir, 'ca.key'),
    '-set_serial',
    serial,
    '-days',
    DAYS,
    '-extfile',
    cnf,
    '-extensions',
    profile,
    '-out',
    path.join(dir, `${name}.crt`),
  ]);
  return readPair(dir, name);
}

/** Writes all key material into `dir` (mode of the temp dir keeps it private). */
export async function createPki(dir: string): Promise<Pki> {
  const cnf = path.join(dir, 'openssl.cnf');
  await writeFile(cnf, OPENSSL_CNF);
  await run('openssl', [
    'req',
    '-config',
    cnf,
    '-x509',
    ...EC_KEY,
    '-keyout',
    path.join(dir, 'ca.key'),
    '-out',
    path.join(dir, 'ca.crt'),
    '-subj',
    '/CN=kubevirt-machine-functions-test-ca',
    '-days',
    DAYS,
    '-extensions',
    'ca',
  ]);
  const ca = await readPair(dir, 'ca');

  const sa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const saPublicKeyFile = path.join(dir, 'sa.pub');
  const saPrivateKeyFile = path.join(dir, 'sa.key');
  await writeFile(saPublicKeyFile, sa.publicKey);
  await writeFile(saPrivateKeyFile, sa.privateKey, { mode: 0o600 });

  const [serving, admin, controllerManager, admissionWebhook] = await Promise.all([
    issue(dir, cnf, 'apiserver', '/CN=kube-apiserver', 'serving'),
    issue(dir, cnf, 'admin', '/O=system:masters/CN=admin', 'client'),
    issue(dir, cnf, 'kube-controller-manager', '/O=system:masters/CN=system:kube-controller-manager', 'client'),
    issue(dir, cnf, 'kubevirt-admission', '/CN=kubevirt-admission', 'serving'),
  ]);
  return { ca, serving, admin, controllerManager, admissionWebhook, saPublicKeyFile, saPrivateKeyFile };
}
