/**
 * One importer pod run for an `http` source: really downloads the URL, as CDI's importer does
 * (pkg/importer/http-datasource.go createHTTPReader: HEAD for the length, then GET), and ends
 * with CDI's termination message.
 *
 * Like CDI, the body's format is not validated for contentType kubevirt: bz2, tar, zip or
 * garbage are "imported" as raw. Only contentType archive checks for a tar stream (CDI pipes it
 * to `tar`, which exits with status 2 otherwise). The bytes are counted and discarded.
 */
import { sleep, isAbort } from '../lifetime.js';
import { contentLength, fetchFollowing, TransportError, type FetchConfig } from './http-fetch.js';
import { goStatus } from './go-errors.js';
import http from 'node:http';

export type AttemptResult = { ok: true } | { ok: false; message: string };

export interface HttpImportRun {
  url: string;
  contentType: string;
  fetch: FetchConfig;
  signal: AbortSignal;
  progressSteps: number;
  chunkMs: number;
  idleTimeoutMs: number;
  /** Called with bytes read / Content-Length at each pacing step (CDI's import_progress metric). */
  onProgress: (fraction: number) => Promise<void>;
  onBytes: (n: number) => void;
}

const CONNECT_PREFIX = 'Unable to connect to http data source: ';
const SCRATCH_PREFIX = 'Unable to process data: Unable to transfer source data to scratch space: ';
const UNTAR_FAILED =
  'Unable to process data: Unable to transfer source data to target directory: unable to untar files from endpoint: exit status 2';

/** Runs one import attempt; rejects only with an AbortError (simulator stopping, DV deleted). */
export async function importHttp(run: HttpImportRun): Promise<AttemptResult> {
  let url: URL;
  try {
    url = new URL(run.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`unsupported protocol scheme "${url.protocol.replace(/:$/, '')}"`);
  } catch (e) {
    return { ok: false, message: `${CONNECT_PREFIX}unable to parse endpoint "${run.url}": ${(e as Error).message}` };
  }

  // getContentLength: a HEAD whose failure only means "length unknown".
  let total = 0;
  try {
    const head = await fetchFollowing('HEAD', url, run.fetch, run.signal);
    if (head.res.statusCode === 200) total = contentLength(head.res);
    head.res.resume();
    head.req.destroy();
  } catch (e) {
    if (isAbort(e)) throw e;
  }

  let got: Awaited<ReturnType<typeof fetchFollowing>>;
  try {
    got = await fetchFollowing('GET', url, run.fetch, run.signal);
  } catch (e) {
    if (e instanceof TransportError) return { ok: false, message: `${CONNECT_PREFIX}HTTP request errored: ${e.message}` };
    throw e;
  }
  const { res, req } = got;
  const code = res.statusCode ?? 0;
  if (code !== 200) {
    res.resume();
    req.destroy();
    const status = goStatus(code, res.statusMessage, http.STATUS_CODES[code]);
    return { ok: false, message: `${CONNECT_PREFIX}expected status code 200, got ${code}. Status: ${status}` };
  }
  if (total === 0) total = contentLength(res);
  return readBody(run, res, req, total);
}

async function readBody(run: HttpImportRun, res: http.IncomingMessage, req: http.ClientRequest, total: number): Promise<AttemptResult> {
  const archive = run.contentType === 'archive';
  const header: Buffer[] = [];
  let headerBytes = 0;
  let read = 0;
  let sinceReport = 0;
  const stepBytes = total > 0 ? Math.max(1, Math.ceil(total / run.progressSteps)) : Infinity;
  // CDI cancels the transfer after 10 minutes without progress (pollProgress).
  req.setTimeout(run.idleTimeoutMs, () => req.destroy(Object.assign(new Error('context canceled'), { code: 'IDLE' })));
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      run.onBytes(chunk.length);
      if (archive && headerBytes < 512) {
        header.push(chunk);
        headerBytes += chunk.length;
        if (headerBytes >= 512 && !looksLikeTar(Buffer.concat(header))) return fail(req, UNTAR_FAILED);
      }
      // Socket chunks vary in size: account for them step by step, so each step is reported.
      let left = chunk.length;
      while (left > 0) {
        const take = Math.min(left, stepBytes - sinceReport);
        left -= take;
        read += take;
        sinceReport += take;
        if (sinceReport >= stepBytes) {
          sinceReport = 0;
          await run.onProgress(read / total);
          await sleep(run.chunkMs, run.signal);
        }
      }
    }
  } catch (e) {
    if (isAbort(e) || run.signal.aborted) throw abortOf(e);
    const idle = (e as { code?: string }).code === 'IDLE';
    return fail(req, archive ? UNTAR_FAILED : `${SCRATCH_PREFIX}${idle ? 'context canceled' : 'unexpected EOF'}`);
  } finally {
    req.destroy();
  }
  if (total > 0 && read < total) return { ok: false, message: archive ? UNTAR_FAILED : `${SCRATCH_PREFIX}unexpected EOF` };
  if (archive && !looksLikeTar(Buffer.concat(header))) return { ok: false, message: UNTAR_FAILED };
  return { ok: true };
}

function fail(req: http.ClientRequest, message: string): AttemptResult {
  req.destroy();
  return { ok: false, message };
}

function abortOf(e: unknown): Error {
  if (isAbort(e)) return e as Error;
  const a = new Error('aborted');
  a.name = 'AbortError';
  return a;
}

/** A tar header (`ustar` at 257), or a compression CDI unwraps before tar (gz, xz, zstd). */
function looksLikeTar(b: Buffer): boolean {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return true;
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
  if (b.length >= 4 && b.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return true;
  return b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';
}
