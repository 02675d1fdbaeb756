// The confirm a hotkey order waits for (lib/confirm.js): the worker keeps the order in
// chrome.storage.session; every open panel shows it, in the ticket and on the minimised bar, with
// Confirm, Cancel and the seconds left. The first answer goes to the worker, which sends the order
// (or not) and reports like any command; the confirm then disappears everywhere.

import { h } from './dom.js';
import { CONFIRM_KEY, CONFIRM_MESSAGE, confirmView, isLive } from '../lib/confirm.js';

const RESULT_SHOW_MS = 8_000;

function sessionArea() {
  try {
    return chrome.storage.session ?? null;
  } catch {
    return null;
  }
}

function sendToWorker(msg) {
  return chrome.runtime.sendMessage(msg);
}

/**
 * @param {{id?: string, compact?: boolean, now?: () => number, send?: (msg: object) => Promise<any>,
 *          area?: chrome.storage.StorageArea|null, onShow?: (shown: boolean) => void}} [opts]
 *   compact: the minimised bar's one-line form (it covers the bar while shown)
 * @returns {{el: HTMLElement, refresh: () => Promise<void>, close: () => void}}
 */
export function hotkeyConfirm({ id = 'hotkey-confirm', compact = false, now = Date.now, send = sendToWorker, area = sessionArea(), onShow = () => {} } = {}) {
  const question = h('strong', { id: `${id}-question` });
  const why = h('small', { id: `${id}-why`, class: compact ? '' : 'result-detail' });
  const yes = h('button', { type: 'button', class: 'btn-trade buy', id: `${id}-yes` }, 'Confirm');
  const no = h('button', { type: 'button', class: compact ? 'btn-small' : 'btn', id: `${id}-no` }, 'Cancel');
  const result = h('small', { id: `${id}-result`, 'aria-live': 'polite' });
  const el = h('div', {
    id,
    class: compact ? 'bar-confirm' : 'ticket-confirm hotkey-confirm',
    role: 'alertdialog',
    'aria-labelledby': question.id,
    'aria-describedby': why.id,
    'data-state': 'none',
    hidden: true,
  });
  if (compact) {
    // covers the 60 px bar while it asks (the bar's grid stays as it is underneath)
    el.style.cssText = 'position:absolute;inset:0;align-items:center;gap:6px;padding:4px 8px;z-index:2;'
      + 'background:var(--bg-raised);border:1px solid var(--warn);box-sizing:border-box;font-size:11px;line-height:1.2;overflow:hidden;';
    yes.style.cssText = 'height:40px;padding:0 10px;flex:none;';
    el.append(h('span', { style: 'flex:1;min-width:0;display:flex;flex-direction:column;overflow:hidden;' }, question, why, result), yes, no);
  } else {
    el.append(h('p', {}, question), why, h('div', { class: 'ticket-actions' }, yes, no), result);
  }

  let pending = null;
  let ticker = null;
  let busy = false;
  let resultTimer = null;

  function shown(on) {
    const was = !el.hidden;
    el.hidden = !on;
    if (compact) el.style.display = on ? 'flex' : 'none';
    if (was !== on) onShow(on);
  }

  function stopTicker() {
    clearInterval(ticker);
    ticker = null;
  }

  function render() {
    const t = now();
    if (pending && !busy && !isLive(pending, t)) {
      pending = null; // ran out here (the worker drops it and says so too)
      stopTicker();
      showResult('Not confirmed in time: nothing was sent.', 'none');
      return;
    }
    if (!pending) {
      stopTicker();
      if (!result.textContent) {
        el.dataset.state = 'none';
        shown(false);
      }
      return;
    }
    const v = confirmView(pending, t);
    question.textContent = v.question;
    why.textContent = `${v.value} ${busy ? 'Sending…' : `${v.secondsLeft} s left.`}`;
    yes.textContent = v.yes;
    yes.className = `btn-trade ${pending.side === 'SELL' ? 'sell' : 'buy'}`;
    yes.disabled = busy;
    no.disabled = busy;
    yes.hidden = false;
    no.hidden = false;
    el.dataset.state = busy ? 'sending' : 'asking';
    el.dataset.side = pending.side;
    shown(true);
  }

  function showResult(text, tone) {
    result.textContent = text;
    result.dataset.tone = tone;
    yes.hidden = true;
    no.hidden = true;
    el.dataset.state = 'answered';
    clearTimeout(resultTimer);
    resultTimer = setTimeout(() => {
      result.textContent = '';
      render();
    }, RESULT_SHOW_MS);
    shown(true);
  }

  function take(p) {
    const fresh = p && p.id !== pending?.id;
    pending = isLive(p, now()) ? p : null;
    if (fresh && pending) {
      result.textContent = '';
      clearTimeout(resultTimer);
    }
    if (pending && !ticker) ticker = setInterval(render, 1000);
    render();
    if (fresh && pending && !compact && document.hasFocus?.()) yes.focus();
  }

  async function answer(yesNo) {
    if (!pending || busy) return;
    const p = pending;
    busy = true;
    render();
    let reply;
    try {
      reply = await send({ kind: CONFIRM_MESSAGE, id: p.id, yes: yesNo });
    } catch (e) {
      reply = { error: { code: 'internal', message: `the extension did not answer (${e?.message ?? e})` } };
    }
    busy = false;
    if (pending?.id === p.id) pending = null;
    if (reply?.error) showResult(reply.error.message || 'Not sent.', 'error');
    else if (!yesNo) showResult('Not sent.', 'none');
    else showResult(reply?.view?.message || reply?.ok?.summary || 'Sent.', reply?.view?.level === 'error' ? 'error' : 'ok');
  }

  yes.addEventListener('click', () => answer(true));
  no.addEventListener('click', () => answer(false));

  let changes = 0; // a change seen while a read was under way is newer than what the read returns

  async function refresh() {
    if (!area) return;
    const before = changes;
    try {
      const got = await area.get(CONFIRM_KEY);
      if (changes === before) take(got?.[CONFIRM_KEY] ?? null);
    } catch (e) {
      console.warn('sidedesk: could not read the waiting confirmation', e);
    }
  }

  const onChanged = (changed, areaName) => {
    if (areaName !== 'session' || !(CONFIRM_KEY in changed)) return;
    changes += 1;
    take(changed[CONFIRM_KEY].newValue ?? null);
  };
  try {
    chrome.storage.onChanged.addListener(onChanged);
  } catch { /* storage unavailable: nothing to follow */ }
  refresh();

  return {
    el,
    refresh,
    close() {
      clearInterval(ticker);
      clearTimeout(resultTimer);
      try { chrome.storage.onChanged.removeListener(onChanged); } catch { /* gone */ }
    },
  };
}
