/**
 * Node's network builtins, loaded when first used instead of when a module is imported.
 *
 * Why: node:http, node:https and node:dns hold native handles, so no module that imports them
 * (nor any module importing that one) can be evaluated inside a function's V8 startup snapshot
 * (scripts/snapshot.ts); each is evaluated at every cold start instead. Through these getters
 * the Kubernetes client, the sink and the image preflight are evaluated at build time, and
 * node:dns (its resolver setup costs about 6 ms) loads with the first image preflight.
 */
import type * as Dns from 'node:dns/promises';
import type * as Http from 'node:http';
import type * as Https from 'node:https';

export const nodeHttp = (): typeof Http => process.getBuiltinModule('node:http');
export const nodeHttps = (): typeof Https => process.getBuiltinModule('node:https');
export const nodeDns = (): typeof Dns => process.getBuiltinModule('node:dns/promises');
