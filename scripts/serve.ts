/**
 * How every function image serves: functions-framework's own server — the Express app its CLI
 * builds (body parsing, `rawBody`, the signature wrappers), obtained through its public
 * `getTestServer` — started from one esbuild bundle together with the function. The image runs
 * it from the function's startup snapshot (scripts/snapshot.ts), which calls serve() when the
 * process starts; dist/functions/<name>/server.cjs is the same bundle without the snapshot.
 *
 * In front of the Express app sits the body bound (MAX_EVENT_BYTES, shared/runtime/handler.ts
 * `boundedBodies`): Express would otherwise read any body whole, up to 1 GB, before the
 * function sees it.
 *
 * The function served is the bundle's own (injected at build time as KMF_FUNCTION), or
 * FUNCTION_TARGET when set. PORT as in Knative (default 8080).
 */
import type { RequestListener } from 'node:http';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { boundedBodies } from '../shared/runtime/handler.js';
import { maxEventBytesFromEnv } from '../shared/runtime/body-limit.js';
import { createLogger } from '../shared/runtime/log.js';

declare const KMF_FUNCTION: string;

export function serve(): void {
  const target = process.env.FUNCTION_TARGET || KMF_FUNCTION;
  let server;
  let maxEventBytes;
  try {
    maxEventBytes = maxEventBytesFromEnv(process.env);
    server = getTestServer(target);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const [app] = server.listeners('request') as RequestListener[];
  const bounded = boundedBodies(app, { maxEventBytes, log: createLogger({ function: target }) });
  server.removeAllListeners('request');
  server.on('request', (req, res) => bounded(req, res));
  server.on('checkContinue', (req, res) => bounded(req, res, true));
  // Handlers catch their own failures; anything escaping is a bug: log the message (never a
  // request body) and exit so Knative replaces the instance, as the functions-framework CLI does.
  process.on('uncaughtException', (e) => {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'uncaught exception', error: e.message })}\n`);
    process.exit(16);
  });
  // Image build: load everything once so Node's compile cache (NODE_COMPILE_CACHE) is written.
  if (process.env.KMF_WARM_COMPILE_CACHE === '1') return;
  const port = Number(process.env.PORT || 8080);
  server.listen(port).setTimeout(0);
}
