/**
 * machine-controller's ConfigVarString / ConfigVarBool: a value written inline, or a reference
 * to a Secret or ConfigMap key on the cluster where the controller runs
 * (`sdk/providerconfig/types.go`, `configvar/resolver.go`).
 *
 * Decoding follows their Go `UnmarshalJSON`: a non-object JSON value becomes the string (a
 * bare `2` is `"2"`); the object form is decoded *without* DisallowUnknownFields, so unknown
 * keys inside it are ignored (we list them in `ignoredFields` so callers can warn). Two
 * deliberate differences: JSON `null` is "unset" (Go would store the text `null`) and an array
 * is an error (Go would store its JSON text).
 */
import * as z from 'zod';
import { goBool, goLooseStruct, goString, jsonKind } from './go-json.js';

/** A cross-namespace key reference (`GlobalSecretKeySelector` / `GlobalConfigMapKeySelector`). */
export interface KeyRef {
  namespace: string;
  name: string;
  key: string;
}

/** A decoded ConfigVarString. `value` is '' when unset. */
export interface ConfigVarString {
  value: string;
  secretKeyRef?: KeyRef;
  configMapKeyRef?: KeyRef;
  /** Keys of the object form that matched no field; Go ignores them silently. */
  ignoredFields?: string[];
}

/** A decoded ConfigVarBool. `value` undefined means unset. */
export interface ConfigVarBool {
  value?: boolean;
  secretKeyRef?: KeyRef;
  configMapKeyRef?: KeyRef;
  ignoredFields?: string[];
}

// The selectors embed corev1.ObjectReference, so its other fields are legal (and unused).
const keyRefSchema = goLooseStruct('providerconfig.GlobalObjectKeySelector', {
  namespace: goString,
  name: goString,
  key: goString,
  kind: goString,
  uid: goString,
  apiVersion: goString,
  resourceVersion: goString,
  fieldPath: goString,
}).transform((r): KeyRef => ({ namespace: r.namespace ?? '', name: r.name ?? '', key: r.key ?? '' }));

/** Copies the refs that are present; keeps the decoded objects free of `undefined` members. */
function withRefs<T extends object>(base: T, o: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef; ignoredFields?: string[] }): T {
  return {
    ...base,
    ...(o.secretKeyRef && { secretKeyRef: o.secretKeyRef }),
    ...(o.configMapKeyRef && { configMapKeyRef: o.configMapKeyRef }),
    ...(o.ignoredFields && { ignoredFields: o.ignoredFields }),
  };
}

/** zod schema for a ConfigVarString (string, number, bool, or the object form). */
export const configVarStringSchema = z.preprocess(
  (v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? { value: String(v) } : v),
  goLooseStruct('providerconfig.ConfigVarString', {
    value: goString,
    secretKeyRef: keyRefSchema,
    configMapKeyRef: keyRefSchema,
  }).transform((o): ConfigVarString => withRefs({ value: o.value ?? '' }, o)),
);

/** zod schema for a ConfigVarBool (a JSON bool or the object form). */
export const configVarBoolSchema = z.preprocess(
  (v) => (typeof v === 'boolean' ? { value: v } : v),
  z
    .unknown()
    .superRefine((v, ctx) => {
      // Go: `error parsing value: '%w'` around json.Unmarshal into *bool.
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) return;
      ctx.addIssue({
        code: 'custom',
        message: `error parsing value: 'json: cannot unmarshal ${jsonKind(v)} into Go value of type bool'`,
      });
    })
    .pipe(
      goLooseStruct('providerconfig.ConfigVarBool', {
        value: goBool,
        secretKeyRef: keyRefSchema,
        configMapKeyRef: keyRefSchema,
      }).transform((o): ConfigVarBool => withRefs(o.value === undefined ? {} : { value: o.value }, o)),
    ),
);

/**
 * Reads referenced values. Injected so the spec module does no I/O itself: the functions pass
 * a client-backed one, the `render` CLI an {@link offlineResolver}.
 */
export interface ConfigVarResolver {
  /** Secret `data[key]`, decoded. Rejects with {@link resolverMessages} wording. */
  secret(ns: string, name: string, key: string): Promise<string>;
  /** ConfigMap `data[key]`. Rejects with {@link resolverMessages} wording. */
  configMap(ns: string, name: string, key: string): Promise<string>;
  /** An environment variable of the controller; undefined when unset. */
  env(name: string): string | undefined;
}

/** machine-controller's resolver error messages, for resolver implementations to reuse. */
export const resolverMessages = {
  secretGet: (name: string, ns: string, cause: string) => `error retrieving secret '${name}' from namespace '${ns}': '${cause}'`,
  secretNoKey: (name: string, ns: string, key: string) => `secret '${name}' in namespace '${ns}' has no key '${key}'`,
  configMapGet: (name: string, ns: string, cause: string) => `error retrieving configmap '${name}' from namespace '${ns}': '${cause}'`,
  configMapNoKey: (name: string, ns: string, key: string) => `configmap '${name}' in namespace '${ns}' has no key '${key}'`,
};

/** machine-controller only follows a reference when all three of name, namespace and key are set. */
export function isCompleteRef(ref: KeyRef | undefined): ref is KeyRef {
  return ref !== undefined && ref.name !== '' && ref.namespace !== '' && ref.key !== '';
}

/** Reads a reference if it is complete; undefined when the ConfigVar's own value applies. */
async function readRef(cv: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef }, r: ConfigVarResolver): Promise<string | undefined> {
  if (isCompleteRef(cv.secretKeyRef)) {
    const { namespace, name, key } = cv.secretKeyRef;
    return r.secret(namespace, name, key);
  }
  if (isCompleteRef(cv.configMapKeyRef)) {
    const { namespace, name, key } = cv.configMapKeyRef;
    return r.configMap(namespace, name, key);
  }
  return undefined;
}

/** `GetStringValue`: secretKeyRef, then configMapKeyRef (each only when complete), then value. */
export async function resolveString(cv: ConfigVarString | undefined, r: ConfigVarResolver): Promise<string> {
  if (!cv) return '';
  return (await readRef(cv, r)) ?? cv.value;
}

/**
 * `GetStringValueOrEnv`: {@link resolveString}, but when that fails or yields '' the
 * environment variable `envName` is used ('' when unset). Never rejects.
 */
export async function resolveStringOrEnv(cv: ConfigVarString | undefined, envName: string, r: ConfigVarResolver): Promise<string> {
  try {
    const value = await resolveString(cv, r);
    if (value !== '') return value;
  } catch {
    // machine-controller swallows the error and falls back to the environment.
  }
  return r.env(envName) ?? '';
}

/** Go's `strconv.ParseBool`. */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`);
}

/**
 * `GetBoolValue`: a referenced value is parsed with ParseBool; `isSet` is false when nothing
 * was configured (to tell "false" from "unset"). Rejects when a reference cannot be read or
 * parsed.
 */
export async function resolveBool(cv: ConfigVarBool | undefined, r: ConfigVarResolver): Promise<{ value: boolean; isSet: boolean }> {
  if (!cv) return { value: false, isSet: false };
  const referenced = await readRef(cv, r);
  if (referenced !== undefined) return { value: parseGoBool(referenced), isSet: true };
  if (cv.value === undefined) return { value: false, isSet: false };
  return { value: cv.value, isSet: true };
}

/**
 * A resolver for offline use (the `render` CLI): environment from `env`, Secrets from
 * `secrets`, keyed `namespace/name` → decoded data. ConfigMaps and Secrets not given are
 * rejected with a "cannot be resolved offline" message naming the reference.
 */
export function offlineResolver(
  env: Record<string, string | undefined>,
  secrets: Record<string, Record<string, string>> = {},
): ConfigVarResolver {
  return {
    async secret(ns, name, key) {
      const id = `${ns}/${name}`;
      const data = Object.hasOwn(secrets, id) ? secrets[id] : undefined;
      if (!data) {
        throw new Error(`secretKeyRef ${id} (key '${key}') cannot be resolved offline: no such secret was provided`);
      }
      if (!Object.hasOwn(data, key)) throw new Error(resolverMessages.secretNoKey(name, ns, key));
      return data[key];
    },
    async configMap(ns, name, key) {
      throw new Error(`configMapKeyRef ${ns}/${name} (key '${key}') cannot be resolved offline`);
    },
    env: (name) => (Object.hasOwn(env, name) ? env[name] : undefined),
  };
}
