/**
 * Userdata: from operating-system-manager's bootstrap Secret, or a minimal built-in one, and the
 * Secret the VM reads it from (`cloudInitNoCloud.secretRef`).
 */
import { stringify } from 'yaml';
import { USERDATA_SECRET_KEY } from '../constants.js';
import type { OperatingSystem } from '../providerspec/types.js';
import type { StringMap, UserdataSecret } from './types.js';

/** OSM's placeholder for the machine's hostname in its bootstrap config. */
export const MACHINE_NAME_PLACEHOLDER = '<MACHINE_NAME>';

/** Ignition config spec version of the built-in Flatcar config (supported by Flatcar ≥ 3185). */
export const IGNITION_VERSION = '3.3.0';

/** Flatcar's default login user, the one Ignition's `passwd.users` must name to get SSH keys. */
const FLATCAR_USER = 'core';

/**
 * Go's `url.QueryEscape`: everything but `A-Za-z0-9-_.~` is %XX-escaped, space becomes `+`.
 * (`encodeURIComponent` leaves `!'()*` alone, so those are escaped on top.)
 */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * machine-controller's `getOSMBootstrapUserdata` on the Secret's `cloud-config` value:
 * `<MACHINE_NAME>` → the machine name, its query-escaped form `%3CMACHINE_NAME%3E` (how it
 * appears inside Ignition data URLs) → the query-escaped machine name, then `cleanupTemplateOutput`:
 * lines made only of spaces/tabs are emptied (the line itself stays; YAML rejects such lines).
 */
export function userdataFromOsm(secretData: string, machineName: string): string {
  const replaced = secretData
    .replaceAll(MACHINE_NAME_PLACEHOLDER, machineName)
    .replaceAll(goQueryEscape(MACHINE_NAME_PLACEHOLDER), goQueryEscape(machineName));
  // Go's `(?m)^[ \t]+$`: `$` matches before `\n` only, so a line ending in `\r` is kept as is.
  return replaced
    .split('\n')
    .map((line) => (/^[ \t]+$/.test(line) ? '' : line))
    .join('\n');
}

export interface BuiltinCloudInitInput {
  hostname: string;
  sshPublicKeys: string[];
  os: OperatingSystem;
}

/**
 * Minimal userdata for a Machine without an OSM bootstrap Secret: the hostname and the SSH keys,
 * enough to log in and debug, not to join a cluster. Flatcar gets an Ignition JSON (it ignores
 * `#cloud-config`); every other OS a `#cloud-config` document. Password SSH stays off, as in
 * machine-controller's own fallback template.
 */
export function builtinCloudInit(input: BuiltinCloudInitInput): string {
  if (input.os === 'flatcar') return builtinIgnition(input);
  const doc: Record<string, unknown> = {
    hostname: input.hostname,
    ssh_pwauth: false,
  };
  if (input.sshPublicKeys.length > 0) doc.ssh_authorized_keys = [...input.sshPublicKeys];
  // The YAML library quotes whatever needs quoting (keys contain spaces, `#`, `:`).
  return `#cloud-config\n${stringify(doc)}`;
}

function builtinIgnition(input: BuiltinCloudInitInput): string {
  const config = {
    ignition: { version: IGNITION_VERSION },
    passwd: {
      users: [
        input.sshPublicKeys.length > 0 ? { name: FLATCAR_USER, sshAuthorizedKeys: [...input.sshPublicKeys] } : { name: FLATCAR_USER },
      ],
    },
    storage: {
      files: [
        {
          path: '/etc/hostname',
          mode: 0o644,
          overwrite: true,
          // RFC 2397 data URL; Ignition requires the payload percent-encoded.
          contents: { source: `data:,${encodeURIComponent(input.hostname)}` },
        },
      ],
    },
  };
  return JSON.stringify(config);
}

export interface UserdataSecretInput {
  name: string;
  namespace: string;
  userdata: string;
  labels: StringMap;
  /**
   * The VirtualMachine, once it exists: machine-controller makes it the Secret's controller so
   * the Secret is garbage-collected with the VM.
   */
  owner?: { name: string; uid: string };
}

/** The Secret `cloudInitNoCloud.secretRef` points at, with the userdata under key `userdata`. */
export function buildUserdataSecret(input: UserdataSecretInput): UserdataSecret {
  const secret: UserdataSecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: input.name, namespace: input.namespace, labels: { ...input.labels } },
    type: 'Opaque',
    data: { [USERDATA_SECRET_KEY]: Buffer.from(input.userdata, 'utf8').toString('base64') },
  };
  if (input.owner) {
    secret.metadata.ownerReferences = [
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachine',
        name: input.owner.name,
        uid: input.owner.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
  }
  return secret;
}
