/**
 * Structured JSON logs, one line per record, with the Machine and trace id when known.
 * Callers pass identities and messages only — never kubeconfigs, tokens or userdata.
 */
export type Fields = Record<string, unknown>;
export interface Logger {
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  with(fields: Fields): Logger;
}

/** Patterns that look like credentials; scrubbed from any logged string as a last line of defence. */
const SECRET_PATTERNS: RegExp[] = [
  /(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g,
  /((?:client-key-data|client-certificate-data|certificate-authority-data|token|password)\s*[:=]\s*)\S+/gi,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
];
export function scrub(s: string): string {
  return SECRET_PATTERNS.reduce((acc, re) => acc.replace(re, (_m, p1?: string) => `${typeof p1 === 'string' ? p1 : ''}[redacted]`), s);
}

export function createLogger(base: Fields = {}, write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  const emit = (level: string, msg: string, fields?: Fields) => {
    const rec: Fields = { time: new Date().toISOString(), level, msg: scrub(msg), ...base, ...fields };
    for (const [k, v] of Object.entries(rec)) if (typeof v === 'string') rec[k] = scrub(v);
    write(JSON.stringify(rec));
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (f) => createLogger({ ...base, ...f }, write),
  };
}

/** W3C trace id from a traceparent header, for log correlation. */
export function traceIdOf(traceparent?: string): string | undefined {
  const m = traceparent && /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  return m ? m[1] : undefined;
}
