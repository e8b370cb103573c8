/**
 * Which Machines a MachineSet deletes when it has too many: machine-controller's delete policies
 * (`machineset/delete_policy.go`, reference §8.5). Each policy maps a Machine to a priority in
 * 0–100 and the highest are deleted first.
 */
import { ANN_DELETE_MACHINE } from '../constants.js';
import type { Machine } from './types.js';

export const DeletePolicy = { Random: 'Random', Newest: 'Newest', Oldest: 'Oldest' } as const;
export type DeletePolicy = (typeof DeletePolicy)[keyof typeof DeletePolicy];

const MUST_DELETE = 100;
const BETTER_DELETE = 50;
const COULD_DELETE = 20;
const MUST_NOT_DELETE = 0;
const SECONDS_PER_TEN_DAYS = 864000;

/** The parts of a Machine the priorities read. */
type Candidate = Pick<Machine, 'metadata' | 'status'>;

/** Being deleted (a deletionTimestamp is set). */
const isDeleting = (m: Candidate) => Boolean(m.metadata.deletionTimestamp);
/** Marked for removal by a user or autoscaler: a non-empty `cluster.k8s.io/delete-machine`. */
const isMarked = (m: Candidate) => Boolean(m.metadata.annotations?.[ANN_DELETE_MACHINE]);
/** Go checks the pointers, so even an empty errorReason/errorMessage counts; null does not. */
const hasError = (m: Candidate) =>
  (m.status?.errorReason !== undefined && m.status?.errorReason !== null) ||
  (m.status?.errorMessage !== undefined && m.status?.errorMessage !== null);

/** Age-based priority: `(1 − exp(−age / 10 days)) × 100`; no or a future creation time → 0. */
function oldestPriority(m: Candidate, now: number): number {
  if (isDeleting(m) || isMarked(m) || hasError(m)) return MUST_DELETE;
  const created = m.metadata.creationTimestamp ? Date.parse(m.metadata.creationTimestamp) : Number.NaN;
  if (Number.isNaN(created)) return MUST_NOT_DELETE;
  const ageSeconds = (now - created) / 1000;
  if (ageSeconds < 0) return MUST_NOT_DELETE;
  return MUST_DELETE * (1 - Math.exp(-ageSeconds / SECONDS_PER_TEN_DAYS));
}

function newestPriority(m: Candidate, now: number): number {
  if (isDeleting(m) || isMarked(m) || hasError(m)) return MUST_DELETE;
  return MUST_DELETE - oldestPriority(m, now);
}

function randomPriority(m: Candidate): number {
  if (isDeleting(m)) return MUST_DELETE;
  if (isMarked(m) || hasError(m)) return BETTER_DELETE;
  return COULD_DELETE;
}

/** A resolved policy, or machine-controller's error for an unknown one. */
export type ResolvedPolicy = { ok: true; policy: DeletePolicy } | { ok: false; error: string };

/** `getDeletePriorityFunc`: `""`/absent means Random; anything but the three names is an error. */
export function resolveDeletePolicy(policy: string | undefined | null): ResolvedPolicy {
  if (policy === undefined || policy === null || policy === '') return { ok: true, policy: DeletePolicy.Random };
  if (policy === DeletePolicy.Random || policy === DeletePolicy.Newest || policy === DeletePolicy.Oldest) return { ok: true, policy };
  // Go's %q; JSON string quoting is the same for printable text.
  return { ok: false, error: `Unsupported delete policy ${JSON.stringify(policy)}. Must be one of 'Random', 'Newest', or 'Oldest'` };
}

/** The deletion priority (0–100) of a Machine under a policy at time `now` (epoch ms). */
export function deletePriority(policy: DeletePolicy, m: Candidate, now: number): number {
  switch (policy) {
    case DeletePolicy.Oldest:
      return oldestPriority(m, now);
    case DeletePolicy.Newest:
      return newestPriority(m, now);
    case DeletePolicy.Random:
      return randomPriority(m);
  }
}

/** Options for choosing: the clock and, for Random's ties, the random source. */
export interface ChooseOptions {
  /** Epoch milliseconds; age-based priorities are relative to it. */
  now: number;
  /** Uniform in [0, 1); defaults to Math.random. Inject a seeded one for reproducible choices. */
  random?: () => number;
}

const creationMs = (m: Candidate) => {
  const t = m.metadata.creationTimestamp ? Date.parse(m.metadata.creationTimestamp) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
};

/**
 * `getMachinesToDeletePrioritized`: the `diff` Machines to delete, highest priority first.
 * Go's sort is unstable, so upstream ties fall in list order — effectively arbitrary. We break
 * them on purpose: Random shuffles (that is its point, and an injected `random` makes tests
 * reproducible); Oldest/Newest prefer the older/newer Machine, then the name.
 */
export function machinesToDelete<M extends Candidate>(
  machines: readonly M[],
  diff: number,
  policy: DeletePolicy,
  opts: ChooseOptions,
): M[] {
  if (diff <= 0) return [];
  if (diff >= machines.length) return [...machines];
  let order = [...machines];
  if (policy === DeletePolicy.Random) order = shuffle(order, opts.random ?? Math.random);
  const ranked = order.map((m, i) => ({ m, i, p: deletePriority(policy, m, opts.now) }));
  ranked.sort((a, b) => {
    if (a.p !== b.p) return b.p - a.p;
    if (policy === DeletePolicy.Random) return a.i - b.i;
    const byAge = policy === DeletePolicy.Oldest ? creationMs(a.m) - creationMs(b.m) : creationMs(b.m) - creationMs(a.m);
    if (byAge !== 0) return byAge;
    const an = a.m.metadata.name ?? '';
    const bn = b.m.metadata.name ?? '';
    return an < bn ? -1 : an > bn ? 1 : 0;
  });
  return ranked.slice(0, diff).map((r) => r.m);
}

/** Fisher–Yates on a copy. */
function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A small seeded PRNG (mulberry32) for reproducible Random choices in tests and simulations. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
