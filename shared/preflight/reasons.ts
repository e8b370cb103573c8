/**
 * The named reasons a preflight fails with; each is either always permanent (the Machine
 * gets an error and the event is not retried) or always transient (retried), so callers can
 * branch on `permanent` and log the reason.
 */

/** Permanent: retrying the same spec cannot succeed. */
export type PermanentReason =
  /** The URL does not parse, or its scheme is not http/https. */
  | 'ImageURLInvalid'
  /** The URL (or a redirect) leads to a refused address (SSRF guard). */
  | 'ImageTargetRefused'
  /** 404 or 410. */
  | 'ImageNotFound'
  /** 401 or 403. */
  | 'ImageAccessDenied'
  /** Any other 4xx: the server rejects the request itself. */
  | 'ImageRequestRejected'
  /** A status CDI's importer does not accept (it wants 200): 204, 3xx without redirect, … */
  | 'ImageUnexpectedStatus'
  /** More redirects than the preflight follows. */
  | 'ImageTooManyRedirects'
  /** The request cannot be sent: an `extraHeaders` line is not a valid HTTP header. */
  | 'ImageRequestInvalid'
  /** The file is empty. */
  | 'ImageEmpty'
  /** The bytes are a format CDI would "import" into an unbootable disk (bz2, tar, zip, …). */
  | 'ImageFormatUnsupported';

/** Transient: the same spec may work later. */
export type TransientReason =
  /** DNS failure, connection refused/reset, TLS failure, timeout. */
  | 'ImageUnreachable'
  /** 5xx, 429 Too Many Requests, 408 Request Timeout. */
  | 'ImageServerError';

export type PreflightReason = PermanentReason | TransientReason;
