/**
 * Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource.ParseQuantity`),
 * ported closely enough to accept and reject exactly the same strings and to fail with the
 * same messages. machine-controller feeds `cpus`, `memory` and disk sizes through it.
 *
 * Grammar: `<sign><digits>[.<digits>]<suffix>`, suffix one of '' n u m k M G T P E (decimal
 * SI), Ki Mi Gi Ti Pi Ei (binary SI) or e/E followed by a signed integer (decimal exponent).
 * Quirks kept from Go: `-`, `+`, `.` and `1.` parse (as 0, 0, 0 and 1).
 */

/** Go's `ErrFormatWrong` message. */
export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** Go's `ErrSuffix` message. */
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";
/** Go's `ErrNumeric` message. */
export const QUANTITY_NUMERIC_ERROR = 'unable to parse numeric part of quantity';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The text as given. */
  text: string;
  format: QuantityFormat;
  negative: boolean;
  /** Exactly zero (Go rounds tiny non-zero values *up* to 1n, so they are not zero). */
  isZero: boolean;
  /** Approximate value in base units (bytes, cores); for display and comparisons only. */
  approx: number;
}

/** Thrown by {@link parseQuantity}; `message` is Go's. */
export class QuantityError extends Error {}

const DECIMAL_SUFFIXES: Record<string, number> = { '': 0, n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const SUFFIX_CHARS = 'eEinumkKMGTP';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

interface Parts {
  negative: boolean;
  /** sign + number part, what Go hands to inf.Dec on its slow path. */
  value: string;
  num: string;
  denom: string;
  suffix: string;
}

/** Port of Go's `parseQuantityString` (a hand-written scanner, not a regex). */
function splitQuantity(str: string): Parts {
  const end = str.length;
  let pos = 0;
  let negative = false;
  if (str[0] === '-') {
    negative = true;
    pos++;
  } else if (str[0] === '+') pos++;

  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { negative, value: '0', num: '0', denom: '', suffix: '' };

  let i = pos;
  while (i < end && isDigit(str[i])) i++;
  let num = str.slice(pos, i);
  if (i >= end) return { negative, value: str, num, denom: '', suffix: '' };
  pos = i;
  if (num === '') num = '0';

  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && isDigit(str[i])) i++;
    denom = str.slice(pos, i);
    if (i >= end) return { negative, value: str, num, denom, suffix: '' };
    pos = i;
  }
  const value = str.slice(0, pos);

  const suffixStart = pos;
  while (pos < end && SUFFIX_CHARS.includes(str[pos])) pos++;
  if (pos < end && (str[pos] === '-' || str[pos] === '+')) pos++;
  while (pos < end && isDigit(str[pos])) pos++;
  if (pos < end) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  return { negative, value, num, denom, suffix: str.slice(suffixStart) };
}

function fitsInt64(decimal: string): boolean {
  const n = BigInt(decimal);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** Go's `quantitySuffixer.interpret`. */
function interpretSuffix(suffix: string): { base: 10 | 2; exponent: number; format: QuantityFormat } {
  if (Object.hasOwn(DECIMAL_SUFFIXES, suffix)) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix], format: 'DecimalSI' };
  if (Object.hasOwn(BINARY_SUFFIXES, suffix)) return { base: 2, exponent: BINARY_SUFFIXES[suffix], format: 'BinarySI' };
  const exp = suffix.slice(1);
  // strconv.ParseInt(exp, 10, 64): an out-of-range exponent is a suffix error too.
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(exp) && fitsInt64(exp)) {
    return { base: 10, exponent: Number(suffix.slice(1)), format: 'DecimalExponent' };
  }
  throw new QuantityError(QUANTITY_SUFFIX_ERROR);
}

/**
 * Parses a quantity or throws {@link QuantityError} with Go's message.
 * @example parseQuantity('2Gi').approx === 2147483648
 */
export function parseQuantity(text: string): Quantity {
  if (text === '') throw new QuantityError(QUANTITY_FORMAT_ERROR);
  if (text === '0') return { text, format: 'DecimalSI', negative: false, isZero: true, approx: 0 };
  const parts = splitQuantity(text);
  const { base, exponent, format } = interpretSuffix(parts.suffix);
  // Go takes a slow path (inf.Dec, which needs a digit) only for results finer than 1n, huge
  // digit counts, binary fractions or overflow; of those only a digit-less mantissa with an
  // exponent below -9 (e.g. `e-10`) can fail, with ErrNumeric.
  if (base === 10 && exponent < -9 && !/\d/.test(parts.value)) throw new QuantityError(QUANTITY_NUMERIC_ERROR);
  const isZero = /^0*$/.test(parts.num + parts.denom);
  const magnitude = Number(`${parts.num}.${parts.denom || '0'}`) * base ** exponent;
  return { text, format, negative: parts.negative && !isZero, isZero, approx: parts.negative ? -magnitude : magnitude };
}

/** True when {@link parseQuantity} accepts `text`. */
export function isValidQuantity(text: string): boolean {
  try {
    parseQuantity(text);
    return true;
  } catch {
    return false;
  }
}
