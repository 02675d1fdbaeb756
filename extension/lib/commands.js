// Keyboard commands (chrome.commands): what to send the host and how to show its answer.
// Pure, so the wording can be unit tested; the worker does the chrome.* calls.

import { flattenText, placedText } from '../sidepanel/words.js';

export const COMMAND_TIMEOUT_MS = 5_000;

const LABELS = {
  buy: 'Buy',
  sell: 'Sell',
  flatten: 'Flatten',
  cancel_all: 'Cancel all',
  close_half: 'Close half',
  breakeven: 'Breakeven',
  toggle_minimised: 'Toggle minimised bar',
};

/** Display order for the shortcuts table (Chrome returns commands sorted by name). */
export const COMMAND_ORDER = Object.keys(LABELS);

export function commandLabel(name) {
  return LABELS[name] ?? name;
}

export const TICKET_KEY = 'sidedesk.ticket'; // the ticket the panel used last (chrome.storage.local)
export const POSITION_KEY = 'sidedesk.position'; // the position selected in the panel
export const MINIMISED_KEY = 'sidedesk.minimised'; // the panel's minimised action bar on/off

/** Commands the worker handles itself instead of sending them to the host. */
export const LOCAL_COMMANDS = new Set(['toggle_minimised']);

const NEEDS_TICKET = new Set(['buy', 'sell']);
const NEEDS_POSITION = new Set(['close_half', 'breakeven']);

/**
 * The host request a command becomes. Without a saved ticket (or selected position) the command
 * still goes to the host, which is the authority and answers why it cannot act ("no ticket yet").
 * @param {string} name
 * @param {{ticket?: object|null, position?: object|null}} [ctx] what the panel saved last
 * @returns {{type: string, payload: object}}
 */
export function commandRequest(name, { ticket = null, position = null } = {}) {
  const payload = { name };
  if (NEEDS_TICKET.has(name) && ticket && typeof ticket === 'object' && typeof ticket.symbol === 'string' && ticket.symbol) {
    const { side: _ignored, ...rest } = ticket;
    payload.ticket = { ...rest, side: name === 'buy' ? 'BUY' : 'SELL' };
  }
  if (NEEDS_POSITION.has(name) && position && typeof position.symbol === 'string' && position.symbol) {
    payload.position = { symbol: position.symbol, position_side: position.position_side || 'BOTH' };
  }
  return { type: 'command', payload };
}

/**
 * How to show the outcome of a command.
 * @param {string} name
 * @param {{ok?: any, error?: {code: string, message: string}}} outcome
 * @returns {{level: 'info'|'error', title: string, message: string, badge: string}}
 */
export function describeOutcome(name, outcome, { ticket = null } = {}) {
  const label = commandLabel(name);
  if (outcome.error) {
    const { code, message } = outcome.error;
    let text = message;
    if (code === 'unknown_type') text = `This host does not support keyboard commands yet (${message}).`;
    else if (code === 'disconnected' || code === 'timeout') text = `Not sent: ${message}`;
    return { level: 'error', title: `Sidedesk — ${label} failed [${code}]`, message: text, badge: '!' };
  }
  const ok = outcome.ok;
  let summary = 'done';
  if (ok && typeof ok === 'object') {
    if (typeof ok.summary === 'string' && ok.summary) summary = ok.summary;
    else if (typeof ok.message === 'string' && ok.message) summary = ok.message;
    // In a trader's words where the answer carries the data (the panel's own wording).
    const r = ok.result;
    if ((name === 'buy' || name === 'sell') && r?.status === 'placed' && typeof ticket?.symbol === 'string') {
      // The worker has no symbol rules: the size is named with the symbol ("0.004 BTCUSDT").
      const info = { symbol: ticket.symbol, base: ticket.symbol, quote: typeof r.currency === 'string' ? r.currency : undefined };
      summary = placedText(r, { side: name === 'buy' ? 'BUY' : 'SELL', type: ticket.type ?? 'MARKET', info }).text;
    } else if (name === 'flatten' && r && typeof r === 'object' && 'closed' in r) {
      summary = flattenText(r).text;
    } else if (name === 'cancel_all' && r && typeof r.cancelled === 'number') {
      summary = r.cancelled ? `Cancelled ${r.cancelled} ${r.cancelled === 1 ? 'order' : 'orders'}` : 'No open order to cancel';
    }
  }
  return { level: 'info', title: `Sidedesk — ${label}`, message: summary, badge: '' };
}
