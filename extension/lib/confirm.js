// A hotkey order above the confirmation threshold: the host answers status "confirm" and sends
// nothing; the worker keeps the order here for CONFIRM_TTL_MS (chrome.storage.session, so every
// open panel and the minimised bar show it, and a panel opened a moment later still does); the
// first Confirm or Cancel from a panel goes back to the worker, which sends the same ticket again
// with `confirmed: true` (or drops it) and shows the answer like any command's.
// Pure, so the wording and the checks are unit tested; the worker and the panel do chrome.*.

import { fmtMoney, trimDecimal } from '../sidepanel/words.js';

export const CONFIRM_KEY = 'sidedesk.confirm'; // chrome.storage.session: the order waiting for a yes
export const CONFIRM_MESSAGE = 'sidedesk.confirm'; // runtime message kind: a panel's answer
export const CONFIRM_TTL_MS = 30_000; // prices move: an unanswered confirm lapses (nothing sent)

/**
 * What the worker stores when the host asks for a confirmation.
 * @param {string} name the command, 'buy' or 'sell'
 * @param {object} ticket the ticket the command sent (side included)
 * @param {{reason?: string, notional?: string, currency?: string, quantity?: string}} result the host's reply
 * @param {number} nowMs
 * @param {string} id unique per confirm
 */
export function pendingConfirm(name, ticket, result, nowMs, id) {
  return {
    id,
    name,
    side: name === 'sell' ? 'SELL' : 'BUY',
    ticket: { ...ticket },
    symbol: String(ticket?.symbol ?? ''),
    quantity: result?.quantity ?? ticket?.quantity ?? null,
    notional: result?.notional ?? null,
    currency: result?.currency ?? '',
    reason: result?.reason ?? '',
    created_ms: nowMs,
    expires_ms: nowMs + CONFIRM_TTL_MS,
  };
}

/** Still answerable at `nowMs`. */
export function isLive(p, nowMs) {
  return Boolean(p && typeof p === 'object' && typeof p.id === 'string' && Number.isFinite(p.expires_ms) && nowMs < p.expires_ms);
}

/**
 * The words of the confirm: "Buy 3 ESZ6?", "Order value 900,037.50 USD, above your confirmation
 * threshold.", the host's own sentence, the buttons, the seconds left.
 */
export function confirmView(p, nowMs) {
  const verb = p?.side === 'SELL' ? 'Sell' : 'Buy';
  const size = p?.quantity ? `${trimDecimal(p.quantity)} ` : '';
  const value = p?.notional ? `Order value ${fmtMoney(p.notional, p.currency || '')}, above your confirmation threshold.` : 'Above your confirmation threshold.';
  return {
    live: isLive(p, nowMs),
    question: `${verb} ${size}${p?.symbol ?? ''}?`,
    value,
    detail: p?.reason ?? '',
    yes: `Confirm ${verb.toUpperCase()}`,
    no: 'Cancel',
    secondsLeft: Math.max(0, Math.ceil(((p?.expires_ms ?? 0) - nowMs) / 1000)),
  };
}

/** The request that sends the confirmed order: the same ticket, `confirmed: true`. */
export function confirmedRequest(p) {
  return { type: 'command', payload: { name: p.name, ticket: { ...p.ticket }, confirmed: true } };
}

/**
 * Why an answer cannot be acted on (null when it can): nothing waiting, another order waiting,
 * or too late. Nothing is ever sent for an answer that does not name the waiting order.
 * @param {object|null} p the stored confirm
 * @param {{id?: string, yes?: boolean}} answer
 * @param {number} nowMs
 */
export function answerProblem(p, answer, nowMs) {
  if (!answer || typeof answer.id !== 'string' || typeof answer.yes !== 'boolean') {
    return { code: 'bad_request', message: 'a confirmation answer needs the order id and yes or no' };
  }
  if (!p || p.id !== answer.id) {
    return { code: 'invalid', message: 'this order is no longer waiting for a confirmation (answered, replaced or expired); nothing was sent' };
  }
  if (!isLive(p, nowMs)) {
    return { code: 'invalid', message: `not confirmed within ${CONFIRM_TTL_MS / 1000} s, so nothing was sent; press the key again` };
  }
  return null;
}
