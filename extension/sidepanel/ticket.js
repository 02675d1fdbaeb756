// The order ticket: symbol (for futures, the contract and its expiry), size, leverage,
// Market/Limit, price, post-only, reduce-only, ASL; BUY and SELL; the exchange's answer with the
// measured latencies; a confirm step when the host asks for one, and the confirm a hotkey order
// waits for (hotkey_confirm.js). The last valid ticket is saved for the buy/sell hotkeys.
//
// The size follows the symbol's `quantity_unit` (ticket_form.js): an amount in the quote
// currency or a coin quantity (Binance), whole contracts (Tradovate, Volumetrica; no leverage),
// shares or dollars (Alpaca). When the host refuses a market order because the market is
// closed, its message stays on show under the ticket.

import { h, labelled, nextId } from './dom.js';
import { hotkeyConfirm } from './hotkey_confirm.js';
import { priceBadge } from './live.js';
import { fmtPrice, isNewer, orderStatusText, statusTone } from './words.js';
import {
  DEFAULT_FORM, STORAGE_KEY, buildTicket, contractText, correctedFormField, describeFailure, describePlaced,
  describeSize, formFromTicket, marketClosedNotice, pickSizeMode, placeRequest, sizeView, unitOf,
} from './ticket_form.js';
import { tradeStore } from './trade_store.js';

const PLACE_TIMEOUT_MS = 15_000;
const SAVE_DELAY_MS = 150;

export function mountTicket(root, client) {
  const store = tradeStore(client);
  const listId = nextId('symbols');
  const el = {
    symbol: h('input', { name: 'symbol', list: listId, autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: 'BTCUSDT' }),
    datalist: h('datalist', { id: listId }),
    notional: h('input', { name: 'notional', inputmode: 'decimal', autocomplete: 'off', class: 'mono' }),
    // A number input: the browser's step/min come from the symbol's step_size/min_qty.
    quantity: h('input', { name: 'quantity', type: 'number', inputmode: 'decimal', autocomplete: 'off', class: 'mono', min: '0', step: 'any' }),
    byNotional: h('input', { type: 'radio', name: `size-${listId}`, value: 'notional' }),
    byQuantity: h('input', { type: 'radio', name: `size-${listId}`, value: 'quantity' }),
    byNotionalText: h('span', {}, 'USDT'),
    byQuantityText: h('span', {}, 'qty'),
    sizeHint: h('small', { class: 'tf-hint', id: 'ticket-size-hint' }),
    leverage: h('input', { name: 'leverage', inputmode: 'numeric', autocomplete: 'off', class: 'mono', placeholder: 'acct' }),
    market: h('input', { type: 'radio', name: `type-${listId}`, value: 'MARKET' }),
    limit: h('input', { type: 'radio', name: `type-${listId}`, value: 'LIMIT' }),
    price: h('input', { name: 'price', inputmode: 'decimal', autocomplete: 'off', class: 'mono' }),
    postOnly: h('input', { type: 'checkbox', name: 'post_only' }),
    reduceOnly: h('input', { type: 'checkbox', name: 'reduce_only' }),
    asl: h('input', { type: 'checkbox', name: 'asl' }),
    buy: h('button', { type: 'button', class: 'btn-trade buy', id: 'ticket-buy' }, 'BUY'),
    sell: h('button', { type: 'button', class: 'btn-trade sell', id: 'ticket-sell' }, 'SELL'),
    result: h('p', { class: 'ticket-result', id: 'ticket-result', 'aria-live': 'polite', 'data-tone': 'none' }),
    resultDetail: h('small', { class: 'result-detail muted', id: 'ticket-result-detail' }),
    // Not a live region: the result line above already announces the same refusal.
    hours: h('p', { class: 'ticket-hours', id: 'ticket-hours', hidden: true }),
    useCorrected: h('button', { type: 'button', class: 'btn-small', hidden: true }, ''),
    confirm: h('div', { class: 'ticket-confirm', id: 'ticket-confirm', role: 'alertdialog', 'aria-labelledby': `${listId}-confirm-text`, hidden: true }),
    quote: h('span', { class: 'quote mono', id: 'ticket-quote' }),
    badge: h('span', { class: 'price-badge', id: 'ticket-badge', 'data-state': 'none' }),
    quoteAsset: h('span', { class: 'unit' }, 'USDT'),
    contract: h('small', { class: 'tf-hint ticket-contract', id: 'ticket-contract', hidden: true }),
  };
  const hotkey = hotkeyConfirm({ id: 'hotkey-confirm' });
  const sizeField = labelled('Size', el.notional, { cls: 'tf tf-size' });
  sizeField.append(el.quoteAsset);
  const quantityUnit = h('span', { class: 'unit' }, '');
  const quantityField = labelled('Size', el.quantity, { cls: 'tf tf-size tf-qty' });
  quantityField.append(quantityUnit);
  el.quantity.setAttribute('aria-describedby', el.sizeHint.id);
  const sizeModeGroup = h('fieldset', { class: 'seg seg-size', id: 'ticket-size-mode' },
    h('legend', { class: 'sr-only' }, 'Size in'),
    h('label', {}, el.byNotional, el.byNotionalText),
    h('label', {}, el.byQuantity, el.byQuantityText));
  const levField = labelled('Leverage', el.leverage, { cls: 'tf tf-lev' });
  const priceField = labelled('Price', el.price, { cls: 'tf tf-price' });
  const typeGroup = h('fieldset', { class: 'seg' },
    h('legend', { class: 'sr-only' }, 'Order type'),
    h('label', {}, el.market, h('span', {}, 'Market')),
    h('label', {}, el.limit, h('span', {}, 'Limit')));
  const form = h('form', { class: 'ticket', 'aria-label': 'Order ticket', novalidate: true },
    h('div', { class: 'ticket-row' },
      labelled('Symbol', el.symbol, { cls: 'tf tf-symbol' }), el.datalist,
      h('div', { class: 'ticket-quote' }, el.quote, el.badge)),
    el.contract,
    h('div', { class: 'ticket-row' }, sizeField, quantityField, sizeModeGroup, levField, typeGroup, priceField),
    el.sizeHint,
    h('div', { class: 'ticket-row ticket-flags' },
      h('label', {}, el.postOnly, ' Post-only'),
      h('label', {}, el.reduceOnly, ' Reduce-only'),
      h('label', { title: 'Protect the position with the Advanced Stop Loss as soon as it fills' }, el.asl, ' ASL')),
    h('div', { class: 'ticket-actions' }, el.buy, el.sell),
    h('div', { class: 'ticket-answer' }, el.result, el.useCorrected),
    el.resultDetail,
    el.hours,
    el.confirm,
    hotkey.el);
  root.replaceChildren(h('div', { class: 'card-head' }, h('h2', {}, 'Ticket')), form);
  root.classList.add('card', 'trade-only');
  form.addEventListener('submit', (e) => e.preventDefault());

  const inFlight = new Set();
  let following = null; // {clientId, side, info, detail}: the placed order whose status the line shows
  let saveTimer = null;
  let corrected = null;
  // Size mode per unit: the toggle's last choice for coins / shares (contracts have one mode).
  const preferred = {};
  let pending = null; // {symbol, mode} of the restored ticket, applied once that symbol's unit is known
  let sizeMode = DEFAULT_FORM.size_mode;

  // -- form <-> values ------------------------------------------------------------------------------
  function values() {
    return {
      symbol: el.symbol.value,
      size_mode: sizeMode,
      notional: el.notional.value,
      quantity: el.quantity.value,
      leverage: el.leverage.value,
      type: el.limit.checked ? 'LIMIT' : 'MARKET',
      price: el.price.value,
      post_only: el.postOnly.checked,
      reduce_only: el.reduceOnly.checked,
      asl: el.asl.checked,
    };
  }

  function fill(v, { restored = false } = {}) {
    el.symbol.value = v.symbol;
    el.notional.value = v.notional;
    el.quantity.value = v.quantity;
    sizeMode = v.size_mode;
    pending = restored ? { symbol: v.symbol.trim().toUpperCase(), mode: v.size_mode } : null;
    el.leverage.value = v.leverage;
    el.market.checked = v.type !== 'LIMIT';
    el.limit.checked = v.type === 'LIMIT';
    el.price.value = v.price;
    el.postOnly.checked = v.post_only;
    el.reduceOnly.checked = v.reduce_only;
    el.asl.checked = v.asl;
    syncType();
    renderUnit();
  }

  function syncType() {
    const limit = el.limit.checked;
    priceField.hidden = !limit;
    el.postOnly.disabled = !limit;
    if (!limit) el.postOnly.checked = false;
    if (limit && !el.price.value) {
      const q = store.quotes[el.symbol.value.trim().toUpperCase()];
      if (q?.mark) el.price.value = q.mark;
    }
  }

  function symbolsList() {
    return [...store.symbols.keys()];
  }

  function symbolInfo() {
    return store.symbols.get(el.symbol.value.trim().toUpperCase());
  }

  function context() {
    return { symbols: symbolsList(), info: symbolInfo() };
  }

  function clearInvalid() {
    for (const input of [el.symbol, el.notional, el.quantity, el.leverage, el.price]) input.removeAttribute('aria-invalid');
  }

  function markInvalid(field) {
    const input = { symbol: el.symbol, notional: el.notional, quantity: el.quantity, leverage: el.leverage, price: el.price }[field];
    if (input) input.setAttribute('aria-invalid', 'true');
    return input;
  }

  function saveSoon() {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      saveTimer = null;
      const { ticket } = buildTicket(values(), context());
      if (ticket) save(ticket);
      publishView();
    }, SAVE_DELAY_MS);
  }

  /** What BUY and SELL send now, for the action bar's buttons. */
  function publishView() {
    const info = symbolInfo();
    const { ticket } = buildTicket(values(), context());
    const symbol = el.symbol.value.trim().toUpperCase();
    store.setTicketView(ticket
      ? { symbol: ticket.symbol, sizeText: describeSize(ticket, info), ok: true }
      : { symbol, sizeText: '', ok: false });
  }

  function save(ticket) {
    try {
      chrome.storage.local.set({ [STORAGE_KEY]: ticket });
    } catch (e) {
      console.warn('sidedesk: could not save the ticket for hotkeys', e);
    }
  }

  form.addEventListener('input', (e) => {
    if (e.target === el.symbol) {
      const sym = el.symbol.value.trim().toUpperCase();
      store.setTicketSymbol(store.symbols.has(sym) ? sym : '');
      showHours(null);
      renderQuote();
      renderUnit();
    }
    if (e.target === el.byNotional || e.target === el.byQuantity) {
      const info = symbolInfo();
      preferred[unitOf(info)] = e.target.value;
      if (!info) sizeMode = e.target.value;
      renderUnit();
    }
    if (e.target === el.market || e.target === el.limit) syncType();
    if (e.target instanceof HTMLInputElement) e.target.removeAttribute('aria-invalid');
    saveSoon();
  });
  form.addEventListener('change', saveSoon);

  // -- placing --------------------------------------------------------------------------------------
  function setResult(text, tone, detail = '') {
    el.result.textContent = text;
    el.result.dataset.tone = tone;
    el.resultDetail.textContent = detail;
    el.resultDetail.hidden = !detail;
    store.setTicketResult(text, tone);
  }

  /** The placed order's latest status as the exchange reported it (a fill after a NEW ack). */
  function showReport(order) {
    if (!following || !order || order.client_id !== following.clientId) return;
    if (!isNewer(order, following.last)) return; // never back from "Bought" to "sent"
    following.last = order;
    setResult(orderStatusText(order, following.info), statusTone(order.status), following.detail);
  }
  store.on('order', showReport);

  function showHours(text) {
    el.hours.textContent = text ?? '';
    el.hours.hidden = !text;
  }

  function offerCorrected(c) {
    const field = c ? correctedFormField(c.field, sizeMode) : null;
    corrected = field ? { field, value: c.value } : null;
    el.useCorrected.hidden = !corrected;
    if (corrected) el.useCorrected.textContent = `Use ${corrected.value}`;
  }

  el.useCorrected.addEventListener('click', () => {
    if (!corrected) return;
    const { field, value } = corrected;
    const input = { notional: el.notional, quantity: el.quantity, price: el.price, leverage: el.leverage }[field];
    input.value = value;
    input.removeAttribute('aria-invalid');
    offerCorrected(null);
    setResult(`${field === 'notional' || field === 'quantity' ? 'Size' : field} set to ${value}; press BUY or SELL again.`, 'none');
    publishView();
    saveSoon();
    input.focus();
  });

  async function place(side, { confirmed = false } = {}) {
    if (inFlight.has(side)) return;
    clearInvalid();
    offerCorrected(null);
    hideConfirm();
    const info = symbolInfo();
    const { ticket, errors } = buildTicket(values(), context());
    if (!ticket) {
      for (const e of errors) markInvalid(e.field);
      setResult(errors.map((e) => e.message).join(' '), 'error');
      markInvalid(errors[0].field)?.focus();
      return;
    }
    save(ticket);
    inFlight.add(side);
    const button = side === 'BUY' ? el.buy : el.sell;
    button.setAttribute('aria-busy', 'true');
    following = null;
    setResult(`${side === 'BUY' ? 'Buying' : 'Selling'} ${describeSize(ticket, info)} of ${ticket.symbol}…`, 'busy');
    const t0 = performance.now();
    try {
      const reply = await client.request('order.place', placeRequest(ticket, side, { source: 'panel', confirmed }), { timeoutMs: PLACE_TIMEOUT_MS });
      const panelMs = performance.now() - t0;
      if (reply?.status === 'confirm') {
        askConfirm(side, reply.reason);
        return;
      }
      const view = describePlaced(reply, { side, type: ticket.type, info, panelMs });
      following = {
        clientId: reply?.client_id ?? null, side, info, detail: view.detail,
        last: { status: view.status, filled: reply?.filled ?? '0', update_time_ms: 0 },
      };
      setResult(view.text, view.tone, view.detail);
      showReport(store.orderReport(following.clientId)); // a fill reported before the reply
      showHours(null);
    } catch (err) {
      const view = describeFailure(err, info);
      setResult(view.text, 'error', view.detail);
      showHours(marketClosedNotice(err));
      if (view.corrected) {
        markInvalid(correctedFormField(view.corrected.field, sizeMode) ?? '');
        offerCorrected(view.corrected);
      } else if (err.details?.field) {
        markInvalid(err.details.field);
      }
    } finally {
      inFlight.delete(side);
      button.removeAttribute('aria-busy');
    }
  }

  function askConfirm(side, reason) {
    const textId = `${listId}-confirm-text`;
    const yes = h('button', { type: 'button', class: `btn-trade ${side === 'BUY' ? 'buy' : 'sell'}`, id: 'ticket-confirm-yes' }, `Confirm ${side}`);
    const no = h('button', { type: 'button', class: 'btn', id: 'ticket-confirm-no' }, 'Cancel');
    yes.addEventListener('click', () => { hideConfirm(); place(side, { confirmed: true }); });
    no.addEventListener('click', () => { hideConfirm(); setResult('Not sent.', 'none'); });
    el.confirm.replaceChildren(h('p', { id: textId }, reason || 'This order needs a confirmation.'), h('div', { class: 'ticket-actions' }, yes, no));
    el.confirm.hidden = false;
    setResult('Waiting for your confirmation.', 'warn');
    yes.focus();
  }

  function hideConfirm() {
    el.confirm.hidden = true;
    el.confirm.replaceChildren();
  }

  el.buy.addEventListener('click', () => place('BUY'));
  el.sell.addEventListener('click', () => place('SELL'));

  // -- symbols and quotes ---------------------------------------------------------------------------
  /** The size box, its unit, step and minimum, the size toggle and leverage, for the symbol's unit. */
  function renderUnit() {
    const info = symbolInfo();
    const unit = unitOf(info);
    el.contract.textContent = contractText(info);
    el.contract.hidden = !el.contract.textContent;
    if (info && pending) {
      if (info.symbol === pending.symbol) preferred[unit] = pending.mode;
      pending = null;
    }
    sizeMode = info ? pickSizeMode(unit, preferred) : (preferred[unit] ?? sizeMode);
    const view = sizeView(info, sizeMode);
    sizeMode = view.mode;
    const byQty = view.mode === 'quantity';
    sizeField.hidden = byQty;
    quantityField.hidden = !byQty;
    el.quoteAsset.textContent = view.unitLabel;
    quantityUnit.textContent = view.unitLabel;
    el.quantity.step = view.step || 'any';
    el.quantity.min = view.min || '0';
    el.quantity.setAttribute('inputmode', view.inputmode);
    el.sizeHint.textContent = view.hint;
    el.sizeHint.hidden = !view.hint;
    sizeModeGroup.hidden = view.choices.length < 2;
    if (view.choices.length >= 2) {
      el.byNotionalText.textContent = view.choices.find((c) => c.mode === 'notional')?.label ?? '';
      el.byQuantityText.textContent = view.choices.find((c) => c.mode === 'quantity')?.label ?? '';
    }
    el.byNotional.checked = !byQty;
    el.byQuantity.checked = byQty;
    levField.hidden = !view.leverage;
    quantityField.dataset.unit = view.unit;
    form.dataset.unit = view.unit;
    form.dataset.sizeMode = view.mode;
  }

  function renderSymbols() {
    el.datalist.replaceChildren(...symbolsList().map((s) => h('option', { value: s })));
    const sym = el.symbol.value.trim().toUpperCase();
    // Empty, or a symbol of another account (the active account changed): start from this one's.
    if ((!sym || !store.symbols.has(sym)) && store.symbols.size) {
      el.symbol.value = store.symbols.has('BTCUSDT') ? 'BTCUSDT' : symbolsList()[0];
      saveSoon();
    }
    const now = el.symbol.value.trim().toUpperCase();
    store.setTicketSymbol(store.symbols.has(now) ? now : '');
    if (now !== sym) showHours(null);
    renderUnit();
    renderQuote();
    publishView();
  }

  function renderQuote() {
    const sym = el.symbol.value.trim().toUpperCase();
    const q = store.quotes[sym];
    if (!q) {
      el.quote.textContent = sym && store.symbols.has(sym) ? 'waiting for price…' : '';
      el.badge.textContent = '';
      el.badge.dataset.state = 'none';
      return;
    }
    const info = store.symbols.get(sym);
    const mark = fmtPrice(q.mark ?? q.last, info, { currency: true });
    const ba = q.bid && q.ask ? ` · bid/ask ${fmtPrice(q.bid, info)} / ${fmtPrice(q.ask, info)}` : '';
    el.quote.textContent = `mark ${mark}${ba}`;
    const now = Date.now();
    const ages = [now - (q.changedMs ?? q.recvMs ?? now)];
    if (Number.isFinite(q.ts_ms)) ages.push(now - q.ts_ms);
    const b = priceBadge(Math.max(...ages));
    el.badge.textContent = b.label;
    el.badge.dataset.state = b.state;
    el.badge.style.opacity = String(b.opacity);
    el.badge.title = b.state === 'delayed' ? 'No price change for over 30 s' : 'Price updated within the last seconds';
  }

  store.on('symbols', renderSymbols);
  store.on('quotes', renderQuote);
  store.on('tick', renderQuote);

  // -- start: the saved ticket, else the defaults ---------------------------------------------------
  fill({ ...DEFAULT_FORM });
  try {
    chrome.storage.local.get(STORAGE_KEY).then((got) => {
      if (got?.[STORAGE_KEY]) fill(formFromTicket(got[STORAGE_KEY]), { restored: true });
      renderSymbols();
    }, () => renderSymbols());
  } catch {
    renderSymbols();
  }
}
