// Reconnect delays: exponential growth from `baseMs`, capped at `capMs`, with "equal jitter"
// (half fixed, half random) so a crashing host is never hammered and several browsers restarting
// together do not retry in lockstep. Pure: the random source is injected for tests.

export const BASE_MS = 500;
export const CAP_MS = 30_000;

/**
 * Delay before reconnect attempt `attempt` (1 = first retry).
 * @param {number} attempt
 * @param {{baseMs?: number, capMs?: number, random?: () => number}} [opts]
 * @returns {number} milliseconds, in [ceiling/2, ceiling] where ceiling = min(cap, base * 2^(attempt-1))
 */
export function backoffDelay(attempt, { baseMs = BASE_MS, capMs = CAP_MS, random = Math.random } = {}) {
  const n = Math.max(1, Math.floor(attempt));
  // 2 ** 60 would still be finite, but clamp the exponent so the arithmetic stays exact.
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(n - 1, 30));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}
