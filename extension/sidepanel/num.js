// Decimal strings as the host sends them ("65000.10", "-12.5"): exact comparison and display.
// Money never becomes a float for decisions here; floats appear only for drawing (the chart).

const DECIMAL_RE = /^[+-]?(\d+)(?:\.(\d+))?$/;

/** True for a plain decimal string ("1", "-0.25", "65000.10"); no exponents, no blanks. */
export function isDecimal(value) {
  return typeof value === 'string' && DECIMAL_RE.test(value.trim());
}

/** A positive decimal typed by a person: digits with an optional fraction, greater than zero. */
export function isPositiveDecimal(value) {
  if (typeof value !== 'string') return false;
  const s = value.trim();
  return /^\d+(\.\d+)?$/.test(s) && /[1-9]/.test(s);
}

/** [BigInt units, scale] for a decimal string, or null. */
function parts(value) {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') return null;
  const m = DECIMAL_RE.exec(value.trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  const sign = value.trim().startsWith('-') ? -1n : 1n;
  return [sign * BigInt(m[1] + frac), frac.length];
}

/**
 * Exact comparison of two decimal strings: -1, 0 or 1; null when either is not a decimal.
 * @param {string} a
 * @param {string} b
 */
export function cmpDecimal(a, b) {
  const pa = parts(a);
  const pb = parts(b);
  if (!pa || !pb) return null;
  const scale = Math.max(pa[1], pb[1]);
  const x = pa[0] * 10n ** BigInt(scale - pa[1]);
  const y = pb[0] * 10n ** BigInt(scale - pb[1]);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Sign of a decimal string: -1, 0, 1 (null if not a decimal). */
export function signOf(value) {
  return cmpDecimal(value, '0');
}

/**
 * Group thousands and fix the number of decimals (rounding half away from zero, exactly).
 * Non-decimals come back as an em dash.
 * @param {string|number|null|undefined} value
 * @param {number} [dp] decimals to show; undefined keeps the value's own
 * @param {{sign?: boolean}} [opts] sign: show "+" on positive values
 */
export function fmtDecimal(value, dp, { sign = false } = {}) {
  const p = parts(value);
  if (!p) return '—';
  let [units, scale] = p;
  if (dp !== undefined && dp !== scale) {
    if (dp > scale) {
      units *= 10n ** BigInt(dp - scale);
    } else {
      const div = 10n ** BigInt(scale - dp);
      const neg = units < 0n;
      let abs = neg ? -units : units;
      const rem = abs % div;
      abs /= div;
      if (rem * 2n >= div) abs += 1n;
      units = neg ? -abs : abs;
    }
    scale = dp;
  }
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const intPart = digits.slice(0, digits.length - scale);
  const fracPart = digits.slice(digits.length - scale);
  const grouped = intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const isZero = /^0*$/.test(intPart + fracPart);
  const prefix = neg && !isZero ? '−' : sign && !isZero ? '+' : '';
  return `${prefix}${grouped}${scale ? `.${fracPart}` : ''}`;
}

/** Decimals implied by a tick or step size string ("0.10" -> 1, "0.001" -> 3, "1" -> 0). */
export function decimalsOf(step) {
  if (!isDecimal(step)) return undefined;
  const s = step.trim();
  const dot = s.indexOf('.');
  if (dot === -1) return 0;
  return s.slice(dot + 1).replace(/0+$/, '').length;
}

/** For drawing only. */
export function toFloat(value) {
  const n = typeof value === 'number' ? value : Number.parseFloat(value);
  return Number.isFinite(n) ? n : null;
}
