/**
 * Kubernetes timestamps (metav1.Time): RFC 3339 in UTC with whole seconds, as Go's
 * controllers serialise them. Custom resources store the string as given, so we match the form.
 */
export function nowTimestamp(at: number = Date.now()): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
