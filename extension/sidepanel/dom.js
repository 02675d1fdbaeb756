// Small DOM helpers shared by the Trade and Setup feature modules (text only, never HTML).

/** h('button', {class: 'x', onclick: fn, disabled: true}, 'text', child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: <div class="f"><label for>…</label><input id></div> */
export function labelled(label, input, { hint, cls = 'tf' } = {}) {
  if (!input.id) input.id = nextId('f');
  const kids = [h('label', { for: input.id }, label), input];
  if (hint) {
    const hintEl = h('small', { class: 'tf-hint', id: `${input.id}-hint` }, hint);
    input.setAttribute('aria-describedby', hintEl.id);
    kids.push(hintEl);
  }
  return h('div', { class: cls }, ...kids);
}

/** Restart a CSS animation class on an element (removing, forcing a reflow, adding). */
export function replayClass(el, cls, others = []) {
  el.classList.remove(cls, ...others);
  void el.offsetWidth; // eslint-disable-line no-void
  el.classList.add(cls);
}

/** The "updated N s ago" / "stale — refresh" element of a section header. */
export function ageBadge(onRefresh) {
  const btn = h('button', { type: 'button', class: 'age', 'data-level': 'none' }, 'no data yet');
  btn.disabled = true;
  btn.addEventListener('click', () => { if (btn.dataset.level === 'stale') onRefresh(); });
  return btn;
}

/** Apply an ageView() to an ageBadge() element. */
export function renderAge(btn, view) {
  if (btn.textContent !== view.text) btn.textContent = view.text;
  btn.dataset.level = view.level;
  btn.disabled = !view.refresh;
  btn.title = view.refresh ? 'No data for over 5 minutes: ask the host for a fresh snapshot' : '';
}

/**
 * Keep a Setup form in step with the host: load it whenever the host (re)connects and whenever
 * the host's saved settings change (the `status` topic's settings_rev: another panel, the CLI),
 * unless the user has unsaved edits in it. `load({quiet})` fills the form; quiet loads leave the
 * result line alone. Call `clean()` after the form was saved or loaded.
 * @returns {{clean: () => void, dirty: () => boolean}}
 */
export function followHost(client, form, load) {
  let dirty = false;
  let rev = null;
  let connected = false;
  form.addEventListener('input', () => { dirty = true; form.dataset.dirty = 'true'; });
  const clean = () => { dirty = false; delete form.dataset.dirty; };
  client.onStatus((s) => {
    const now = s.state === 'connected';
    if (now && !connected && !dirty) load({ quiet: form.dataset.loaded === 'true' });
    connected = now;
  });
  client.on('status', (payload) => {
    const next = payload?.settings_rev ?? null;
    if (rev !== null && next !== rev && !dirty) load({ quiet: true });
    rev = next;
  });
  return { clean, dirty: () => dirty };
}
