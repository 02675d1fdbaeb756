// Setup: the local stream for other programs (localstream.get/set/tokens/create_token/
// rotate_token/revoke_token/stats). A token's secret arrives in exactly one reply (create or
// rotate); it is shown here with a Copy button until the section is left, and never again.
//
//   import { mountLocalStream } from './localstream.js';
//   mountLocalStream(document.getElementById('setup-localstream'), client);

import { followHost, h, labelled } from './dom.js';
import { describeFailure } from './ticket_form.js';

const STATS_EVERY_MS = 5000;

/** "12.3 ms" / "—" */
export function ms(v) {
  return typeof v === 'number' ? `${v.toFixed(v < 10 ? 2 : 1)} ms` : '—';
}

/** "1.2 %" / "—" (rates are fractions) */
export function pct(v) {
  return typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '—';
}

/** Origins typed one per line (or comma-separated) -> the list the host validates. */
export function parseOrigins(text) {
  return [...new Set(String(text).split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

/** Validate the settings form; returns {settings} or {error, field}. */
export function readSettings({ enabled, port, batchMs, origins }) {
  const p = Number(port);
  if (!Number.isInteger(p) || (p !== 0 && (p < 1024 || p > 65535))) {
    return { error: 'Port: a whole number from 1024 to 65535.', field: 'port' };
  }
  const b = Number(batchMs);
  if (!Number.isInteger(b) || b < 50 || b > 60000) {
    return { error: 'Batch window: 50 to 60000 ms.', field: 'batch' };
  }
  return { settings: { enabled: Boolean(enabled), port: p, batch_ms: b, allowed_origins: parseOrigins(origins) } };
}

export function mountLocalStream(root, client) {
  // Our own stylesheet, so that mounting the section is all the panel has to do.
  if (!document.querySelector('link[href="localstream.css"]')) {
    document.head.append(h('link', { rel: 'stylesheet', href: 'localstream.css' }));
  }
  root.classList.add('ls');
  const enabled = h('input', { type: 'checkbox', id: 'ls-enabled' });
  const port = h('input', { inputmode: 'numeric', class: 'mono', autocomplete: 'off', id: 'ls-port' });
  const batch = h('input', { inputmode: 'numeric', class: 'mono', autocomplete: 'off', id: 'ls-batch' });
  const origins = h('textarea', { rows: 2, class: 'mono', spellcheck: 'false', id: 'ls-origins', placeholder: 'none: only programs (no browser pages)' });
  const state = h('p', { class: 'ls-state', id: 'ls-state', 'aria-live': 'polite' });
  const result = h('p', { class: 'action-result', id: 'ls-result', 'aria-live': 'polite' });
  const settingsForm = h('form', { class: 'setup-form', id: 'ls-form', novalidate: true },
    h('label', { class: 'ls-check' }, enabled, ' Enabled (127.0.0.1 only, read-only)'),
    labelled('Port', port, { hint: 'ws://127.0.0.1:<port>' }),
    labelled('Batch window (ms)', batch, { hint: 'positions go out at most once per window' }),
    labelled('Allowed browser origins', origins, { hint: 'one per line, e.g. http://localhost:3000; programs need none' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn', id: 'ls-save' }, 'Save')),
    result);

  const tokenList = h('ul', { class: 'ls-tokens', id: 'ls-tokens' });
  const secretBox = h('div', { class: 'ls-secret', id: 'ls-secret', hidden: true });
  const tokenName = h('input', { maxlength: 64, autocomplete: 'off', id: 'ls-token-name', required: true });
  const accountBox = h('fieldset', { class: 'ls-accounts', id: 'ls-token-accounts' });
  const tokenResult = h('p', { class: 'action-result', id: 'ls-token-result', 'aria-live': 'polite' });
  const tokenForm = h('form', { class: 'setup-form', id: 'ls-token-form', novalidate: true },
    labelled('Name', tokenName, { hint: 'e.g. journal, overlay' }),
    accountBox,
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn', id: 'ls-create' }, 'New token')),
    tokenResult);

  const statsList = h('dl', { class: 'ls-stats', id: 'ls-stats' });

  root.replaceChildren(
    h('h2', { id: 'ls-title' }, 'Local stream'),
    h('p', { class: 'hint' }, 'Lets programs on this computer (a journal, an overlay, your scripts) follow the portfolio live. Off by default; nothing can trade through it.'),
    settingsForm, state,
    h('h3', {}, 'Tokens'), secretBox, tokenList, tokenForm,
    h('h3', {}, 'Statistics'), statsList);
  root.setAttribute('aria-labelledby', 'ls-title');

  let accounts = []; // vault entries {id, name}
  let statsTimer = null;

  function show(el, text, tone) {
    el.textContent = text;
    el.dataset.tone = tone;
  }

  function renderInfo(info) {
    const s = info.settings;
    enabled.checked = s.enabled;
    port.value = String(s.port);
    batch.value = String(s.batch_ms);
    origins.value = s.allowed_origins.join('\n');
    let text;
    if (info.running) text = `Running at ${info.url}.`;
    else if (s.enabled && info.error) text = `Not running: ${info.error}`;
    else text = 'Off.';
    if (info.running && !info.tokens_loaded) text += ' Unlock the vault so programs can sign in.';
    show(state, text, info.error ? 'error' : 'none');
    settingsForm.dataset.loaded = 'true';
  }

  function accountName(id) {
    return accounts.find((a) => a.id === id)?.name ?? id;
  }

  function showSecret(name, secret) {
    const code = h('code', { class: 'mono', id: 'ls-secret-value' }, secret);
    const copied = h('span', { class: 'ls-copied', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', class: 'btn', id: 'ls-copy' }, 'Copy');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copied.textContent = 'Copied.';
      } catch {
        copied.textContent = 'Copy failed: select the token and copy it by hand.';
      }
    });
    const done = h('button', { type: 'button', class: 'btn', id: 'ls-secret-done' }, 'Done');
    done.addEventListener('click', () => { secretBox.hidden = true; secretBox.replaceChildren(); });
    secretBox.replaceChildren(
      h('p', {}, h('strong', {}, `Token “${name}”: `), 'copy it now, it is not shown again.'),
      code, h('div', { class: 'form-actions' }, copy, done, copied));
    secretBox.hidden = false;
    copy.focus();
  }

  function renderTokens(tokens) {
    tokenList.replaceChildren(...tokens.map((t) => {
      const rotate = h('button', { type: 'button', class: 'btn', 'data-action': 'rotate' }, 'Rotate');
      const revoke = h('button', { type: 'button', class: 'btn danger', 'data-action': 'revoke' }, 'Revoke');
      rotate.addEventListener('click', () => act('localstream.rotate_token', t, `Rotate “${t.name}”? Programs using it are disconnected.`));
      revoke.addEventListener('click', () => act('localstream.revoke_token', t, `Revoke “${t.name}”? Programs using it are disconnected.`));
      const scope = t.accounts === null ? 'all accounts' : t.accounts.map(accountName).join(', ');
      return h('li', { class: 'ls-token', 'data-id': t.id },
        h('div', { class: 'ls-token-head' }, h('strong', {}, t.name), h('code', { class: 'mono' }, t.masked)),
        h('small', {}, `${scope} · ${t.connections} connected`),
        h('div', { class: 'form-actions' }, rotate, revoke));
    }));
    if (!tokens.length) tokenList.append(h('li', { class: 'hint' }, 'No tokens yet.'));
  }

  function renderAccounts() {
    const boxes = accounts.map((a) => h('label', { class: 'ls-check' },
      h('input', { type: 'checkbox', name: 'account', value: a.id }), ` ${a.name}`));
    accountBox.replaceChildren(h('legend', {}, 'Accounts it may see (none ticked: all)'), ...boxes);
  }

  function renderStats(reply) {
    const s = reply.localstream;
    const rows = [
      ['Active connections', String(s.active_connections)],
      ['Messages sent', String(s.messages_sent)],
      ['Delivery latency (avg / p99)', `${ms(s.latency_avg_ms)} / ${ms(s.latency_p99_ms)}`],
      ['Disconnect rate', pct(s.disconnect_rate)],
      ['Error rate', pct(s.error_rate)],
    ];
    statsList.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, v)]));
  }

  async function act(type, token, question) {
    if (!window.confirm(question)) return;
    show(tokenResult, 'Working…', 'busy');
    try {
      const reply = await client.request(type, { id: token.id });
      if (reply.secret) showSecret(reply.token.name, reply.secret);
      show(tokenResult, type.endsWith('revoke_token') ? 'Revoked.' : 'Rotated.', 'ok');
      await loadTokens();
    } catch (err) {
      show(tokenResult, describeFailure(err).text, 'error');
    }
  }

  async function loadTokens() {
    const reply = await client.request('localstream.tokens');
    renderTokens(reply.tokens);
  }

  async function refreshStats() {
    try {
      renderStats(await client.request('localstream.stats'));
    } catch {
      // the diagnostics simply keep their last figures
    }
  }

  async function load() {
    try {
      renderInfo(await client.request('localstream.get'));
      sync.clean();
      try {
        accounts = (await client.request('vault.entries')).entries.map((e) => ({ id: e.id, name: e.name }));
      } catch {
        accounts = []; // vault locked: tokens can still be listed, not created
      }
      renderAccounts();
      await loadTokens();
      await refreshStats();
    } catch (err) {
      show(state, `Could not read the local stream settings: ${describeFailure(err).text}`, 'error');
    }
  }

  settingsForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const el of [port, batch]) el.removeAttribute('aria-invalid');
    const read = readSettings({ enabled: enabled.checked, port: port.value, batchMs: batch.value, origins: origins.value });
    if (read.error) {
      show(result, read.error, 'error');
      const el = read.field === 'port' ? port : batch;
      el.setAttribute('aria-invalid', 'true');
      el.focus();
      return;
    }
    show(result, 'Saving…', 'busy');
    try {
      renderInfo(await client.request('localstream.set', read.settings));
      sync.clean();
      show(result, 'Saved.', 'ok');
    } catch (err) {
      show(result, describeFailure(err).text, 'error');
    }
  });

  tokenForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = tokenName.value.trim();
    if (!name) {
      show(tokenResult, 'Give the token a name.', 'error');
      tokenName.focus();
      return;
    }
    const ticked = [...accountBox.querySelectorAll('input[name=account]:checked')].map((i) => i.value);
    const payload = ticked.length ? { name, accounts: ticked } : { name };
    show(tokenResult, 'Creating…', 'busy');
    try {
      const reply = await client.request('localstream.create_token', payload);
      showSecret(reply.token.name, reply.secret);
      tokenName.value = '';
      show(tokenResult, 'Created.', 'ok');
      await loadTokens();
    } catch (err) {
      show(tokenResult, describeFailure(err).text, 'error');
    }
  });

  const sync = followHost(client, settingsForm, load);
  // The vault's accounts (token scopes) and tokens follow the vault too.
  let vaultRev = null;
  client.on('status', (payload) => {
    const rev = payload?.vault_rev ?? null;
    if (vaultRev !== null && rev !== vaultRev) {
      if (sync.dirty()) loadTokens().catch(() => {}); else load();
    }
    vaultRev = rev;
  });
  // Statistics refresh while the section is on screen (Setup visible), not in the background.
  const io = new IntersectionObserver((entries) => {
    const visible = entries.some((en) => en.isIntersecting);
    if (visible && statsTimer === null) {
      refreshStats();
      loadTokens().catch(() => {});
      statsTimer = setInterval(refreshStats, STATS_EVERY_MS);
    } else if (!visible && statsTimer !== null) {
      clearInterval(statsTimer);
      statsTimer = null;
    }
  });
  io.observe(root);
}
