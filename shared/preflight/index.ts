/**
 * Preflight checks the machine function runs before it creates anything on the infra
 * cluster: image reachability and format (with the SSRF guard), and CIDR overlap.
 */
export { cidrContains, cidrsOverlap, cidrWithin, formatIp, parseCidr, parseIp, unmapIpv4, type Cidr, type IpAddress } from './cidr.js';
export {
  ALLOW_CIDRS_ENV,
  EMBEDDED_ALLOW_CIDRS,
  REFUSED_RANGES,
  PreflightConfigError,
  allowListFromEnv,
  parseCidrList,
  refusalFor,
  type RefusedKind,
  type RefusedRange,
  type Refusal,
} from './refused.js';
export { checkImageTarget, pinnedLookup, redactUrl, systemResolve, type Resolve, type TargetCheck } from './ssrf.js';
export { probeImage, DEFAULT_PROBE_TIMEOUT_MS, DEFAULT_MAX_REDIRECTS, type ProbeOptions, type ProbeResult } from './probe.js';
export { preflightImage, type PreflightDeps, type PreflightResult } from './image.js';
export { resolveRegistryDigest, MANIFEST_ACCEPT, type RegistryDigestOptions, type RegistryDigestResult } from './registry-digest.js';
export { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.js';
export {
  CIDR_ENV,
  checkCidrOverlap,
  cidrConfigFromEnv,
  clusterCidrs,
  type ClusterCidrs,
  type ClusterCidrsFound,
  type CidrOverlapResult,
} from './cidr-overlap.js';
export type { PermanentReason, PreflightReason, TransientReason } from './reasons.js';
