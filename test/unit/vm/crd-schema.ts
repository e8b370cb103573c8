/**
 * Checks an object against a CRD's structural OpenAPI schema the way the API server's pruning
 * sees it: every key must be a declared property (case-sensitive), every scalar of the declared
 * type. It proves our output uses the schema's camelCase keys — a key the schema does not know
 * would be silently pruned by a real API server (or rejected with fieldValidation=Strict).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  pattern?: string;
}

/**
 * The API server validates a custom resource's root `metadata` as ObjectMeta, not through the
 * CRD schema (which only says `type: object`); these are the ObjectMeta keys a client may write.
 */
const OBJECT_META_KEYS = new Set([
  'name',
  'generateName',
  'namespace',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'resourceVersion',
  'uid',
]);

/** The `openAPIV3Schema` of `version` in a CRD manifest file. */
export function loadCrdSchema(file: string, version: string): Schema {
  const crd = parse(readFileSync(file, 'utf8')) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  };
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${file}: no version ${version}`);
  return v.schema.openAPIV3Schema;
}

/** Every schema violation in `value`, as `path: problem` strings; `[]` when it conforms. */
export function schemaViolations(schema: Schema, value: unknown, path = ''): string[] {
  const at = path === '' ? '<root>' : path;
  if (value === null || value === undefined) return [];
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern).test(value)) {
    return [`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`];
  }
  if (schema['x-kubernetes-int-or-string']) {
    return typeof value === 'string' || Number.isInteger(value) ? [] : [`${at}: expected int-or-string`];
  }
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${at}: expected string, got ${JSON.stringify(value)}`];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: expected integer, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: expected array`];
      return value.flatMap((item, i) => (schema.items ? schemaViolations(schema.items, item, `${path}[${i}]`) : []));
    default:
      break;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected object`];
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (path === '' && key === 'metadata') {
      for (const k of Object.keys(child ?? {})) {
        if (!OBJECT_META_KEYS.has(k)) out.push(`metadata.${k}: not an ObjectMeta field`);
      }
      continue;
    }
    const declared = schema.properties?.[key];
    if (declared) {
      out.push(...schemaViolations(declared, child, childPath));
    } else if (typeof schema.additionalProperties === 'object') {
      out.push(...schemaViolations(schema.additionalProperties, child, childPath));
    } else if (!schema['x-kubernetes-preserve-unknown-fields'] && schema.additionalProperties !== true) {
      out.push(`${childPath}: not in the schema (would be pruned)`);
    }
  }
  return out;
}
