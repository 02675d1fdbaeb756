// The Setup tab's vault section: create / unlock / lock / change password, broker accounts
// (add, remove; shown masked only), auto-lock, unattended unlock (off by default). Secrets typed here go straight to the host and
// are cleared from the form; the host never sends one back.
//
//   import { mountVault } from './vault.js';
//   mountVault(document.getElementById('setup-vault'), client);

const KDF_OPS = new Set(['vault.create', 'vault.unlock', 'vault.change_password']);
const KDF_TIMEOUT_MS = 60_000; // Argon2id on a slow machine; the worker enforces its own limit too

const ENVIRONMENTS = {
  binance: ['testnet', 'demo', 'live', 'simulator'],
  tradovate: ['demo', 'live', 'simulator'],
  // Volumetrica has Production (every trader account: evaluation, funded, live) and Staging
  // (prop firms' managers and developers); an older entry's 'demo' is Production too.
  volumetrica: ['live', 'simulator'],
  alpaca: ['demo', 'live', 'simulator'],
};

// What a broker calls an environment, where that differs from the vault's word. Volumetrica's
// Trading API v4.0 (03/2025): "0 – Production = used by propfirms' users", "1 – Staging = used for
// testing purposes by propfirms' managers/developers".
const ENV_LABELS = {
  volumetrica: { live: 'Production', demo: 'Production', simulator: 'Simulator (offline)' },
};
const ENV_HINTS = {
  volumetrica: 'Production holds all your prop-firm accounts: evaluation, funded and live. '
    + '(Volumetrica’s Staging is for prop firms’ managers and developers.)',
};

/** The environment as the broker names it. */
function envLabel(broker, env) {
  return ENV_LABELS[broker]?.[env] ?? env;
}

// [name, label, kind, auth, default] — kind: text | optional (text that may stay empty) | secret |
// number | pem | checkbox; `auth` limits
// a field to one key type; `default` pre-fills a field the broker needs but rarely changes.
const FIELDS = {
  binance: [
    ['api_key', 'API key', 'secret'],
    ['secret', 'API secret (HMAC)', 'secret', 'hmac'],
    ['private_key_pem', 'Ed25519 private key (PEM)', 'pem', 'ed25519'],
  ],
  tradovate: [
    ['username', 'Username', 'text'],
    ['password', 'Password', 'secret'],
    ['cid', 'API client id (cid)', 'number'],
    ['sec', 'API secret (sec)', 'secret'],
    ['app_id', 'App id', 'text', null, 'Sidedesk'],
    ['account', 'Account (optional)', 'optional'],
  ],
  volumetrica: [
    ['login', 'Login', 'text'],
    ['password', 'Password', 'secret'],
    ['platform_key', 'Platform key', 'secret'],
    ['keep_other_sessions', 'Keep my other platform logged in', 'checkbox', null, true],
    ['account', 'Account number (optional)', 'optional'],
  ],
  alpaca: [
    ['key_id', 'API key id', 'secret'],
    ['secret_key', 'API secret key', 'secret'],
  ],
};

const FIELD_HINTS = {
  app_id: 'The name Tradovate shows for this program; any name works',
  account: 'The account of this login to trade (Tradovate: its id or name, e.g. APEX-1234-01; '
    + 'Volumetrica: its number). Empty: the login’s first account; pick another any time under '
    + 'Broker account or in the Trade tab.',
  keep_other_sessions: 'On: the platform you trade in stays logged in beside Sidedesk, and what you '
    + 'trade there shows here. Off: Sidedesk’s login logs it out (Volumetrica’s default).',
};

const AUTOLOCK_CHOICES = [
  [60, '1 minute'], [300, '5 minutes'], [900, '15 minutes'], [1800, '30 minutes'],
  [3600, '1 hour'], [14400, '4 hours'],
];

// What unattended unlock trades away, shown beside its switch (README: "Unattended unlock").
const UNATTENDED_LABEL = 'Unlock without a password after a restart (unattended unlock)';
const UNATTENDED_HINT = 'When the Sidedesk service restarts (after a crash, or at login), a random key kept in your '
  + 'OS keychain (Secret Service, Keychain or Credential Locker) opens the vault, so the Advanced Stop Loss and the '
  + 'watchdog resume without you. The trade-off: while it is on, anyone who can run programs as you on this '
  + 'computer can trade and close positions, and the keychain is unlocked by your OS login alone. '
  + 'Turning it off removes the key from the vault and from the keychain.';

let uid = 0;

/** Tiny DOM builder: attributes, then children (strings become text nodes, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function field(label, input, hint) {
  const id = `vault-f${++uid}`;
  input.id = id;
  const hintEl = hint ? h('small', { class: 'vault-hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'vault-field' }, h('label', { for: id }, label), input, hintEl);
}

function passwordInput(name, autocomplete = 'current-password') {
  return h('input', { type: 'password', name, required: true, autocomplete, spellcheck: 'false', maxlength: 1024 });
}

export function mountVault(root, client) {
  const view = {
    status: null, // last vault.status reply
    entries: [],
    busy: null, // message while a request is running
    error: null, // {message, details}
    notice: '',
    retryUntil: 0, // Date.now() ms until which unlock is rate-limited
  };
  let countdown = null;

  root.classList.add('vault');
  const live = h('p', { class: 'vault-live', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { class: 'vault-body' });
  root.replaceChildren(h('h2', {}, 'Vault'), body, live);

  function say(text) { view.notice = text; live.textContent = text; }

  async function call(type, payload = {}, busyText = null) {
    view.error = null;
    say(''); // the last success line must not stay under a new answer (e.g. a wrong-password alert)
    view.busy = busyText ?? (KDF_OPS.has(type) ? 'Deriving the key… this takes a moment' : 'Working…');
    render();
    try {
      const opts = KDF_OPS.has(type) ? { timeoutMs: KDF_TIMEOUT_MS } : {};
      return await client.request(type, payload, opts);
    } catch (err) {
      view.error = { message: err?.message ?? String(err), code: err?.code, details: err?.details ?? {} };
      const wait = Number(view.error.details?.retry_after_s ?? 0);
      if (wait > 0) startCountdown(wait);
      if (err?.code === 'locked') await refresh();
      throw err;
    } finally {
      view.busy = null;
      render();
    }
  }

  function startCountdown(seconds) {
    view.retryUntil = Date.now() + seconds * 1000;
    if (countdown) clearInterval(countdown);
    countdown = setInterval(() => {
      if (Date.now() >= view.retryUntil) { clearInterval(countdown); countdown = null; }
      render();
    }, 1000);
  }

  function retryLeft() { return Math.max(0, Math.ceil((view.retryUntil - Date.now()) / 1000)); }

  async function refresh() {
    try {
      view.status = await client.request('vault.status');
      if (view.status.retry_after_s > 0 && retryLeft() === 0) startCountdown(view.status.retry_after_s);
      view.entries = view.status.state === 'unlocked' ? (await client.request('vault.entries')).entries : [];
    } catch (err) {
      view.error = { message: err?.message ?? String(err), code: err?.code, details: err?.details ?? {} };
    }
    render();
  }

  // -- forms ------------------------------------------------------------------------------------
  // Each form is built once and kept: a re-render (a status push, a countdown tick, another
  // panel's change) puts the same elements back, so what the user typed or chose stays.
  const kept = new Map();
  function once(key, build) {
    if (!kept.has(key)) kept.set(key, build());
    return kept.get(key);
  }

  function createForm() {
    return once('create', buildCreateForm);
  }

  function buildCreateForm() {
    const pw = passwordInput('password', 'new-password');
    const again = passwordInput('again', 'new-password');
    return h('form', {
      class: 'vault-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (pw.value !== again.value) { view.error = { message: 'the two passwords differ' }; render(); return; }
        const password = pw.value;
        pw.value = again.value = '';
        try { await call('vault.create', { password }); say('Vault created and unlocked.'); } catch { /* shown */ }
        await refresh();
      },
    },
    h('p', {}, 'Create the vault that keeps your broker keys on this computer, encrypted with a password only you know.'),
    field('New vault password', pw, 'At least 10 characters; not a common password. It cannot be recovered if lost.'),
    field('Repeat the password', again),
    h('button', { type: 'submit' }, 'Create vault'));
  }

  function unlockForm() {
    const form = once('unlock', buildUnlockForm);
    const wait = retryLeft();
    const button = form.querySelector('button[type="submit"]');
    button.disabled = !!view.busy || wait > 0;
    button.textContent = wait > 0 ? `Unlock (wait ${wait} s)` : 'Unlock';
    return form;
  }

  function buildUnlockForm() {
    const pw = passwordInput('password');
    return h('form', {
      class: 'vault-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const password = pw.value;
        pw.value = '';
        try { await call('vault.unlock', { password }); say('Vault unlocked.'); } catch { /* shown */ }
        await refresh();
      },
    },
    field('Vault password', pw),
    h('button', { type: 'submit' }, 'Unlock'));
  }

  function damagedHelp() {
    const d = view.error?.details;
    if (!d?.damaged) return null;
    if (!d.backup) return h('p', { class: 'vault-hint' }, `Restore ${d.path ?? 'vault.sdv'} from your own backup copy.`);
    return h('div', { class: 'vault-restore' },
      h('p', {}, 'A backup of the previous version exists. Restoring it keeps the damaged file beside it, renamed.'),
      h('button', {
        type: 'button',
        disabled: !!view.busy,
        onclick: async () => {
          try { await call('vault.restore_backup'); say('Backup restored. Unlock it with your password.'); } catch { /* shown */ }
          await refresh();
        },
      }, 'Restore the backup'));
  }

  function changePasswordForm() {
    return once('change', buildChangePasswordForm);
  }

  function buildChangePasswordForm() {
    const old = passwordInput('old_password');
    const pw = passwordInput('new_password', 'new-password');
    const again = passwordInput('again', 'new-password');
    return h('details', { class: 'vault-change' },
      h('summary', {}, 'Change password'),
      h('form', {
        class: 'vault-form',
        onsubmit: async (ev) => {
          ev.preventDefault();
          if (pw.value !== again.value) { view.error = { message: 'the two new passwords differ' }; render(); return; }
          const payload = { old_password: old.value, new_password: pw.value };
          old.value = pw.value = again.value = '';
          try { await call('vault.change_password', payload); say('Password changed.'); } catch { /* shown */ }
          await refresh();
        },
      },
      field('Current password', old),
      field('New password', pw),
      field('Repeat the new password', again),
      h('button', { type: 'submit' }, 'Change password')));
  }

  function autolockControl() {
    const current = Number(view.status?.autolock_s ?? 900);
    const known = AUTOLOCK_CHOICES.some(([s]) => s === current);
    const choices = known ? AUTOLOCK_CHOICES : [...AUTOLOCK_CHOICES, [current, `${Math.round(current)} s`]];
    const select = h('select', {
      onchange: async () => {
        try {
          await call('vault.configure', { autolock_s: Number(select.value) }, 'Saving…');
          say(`Auto-lock set to ${select.selectedOptions[0].textContent}.`);
        } catch { /* shown */ }
        await refresh();
      },
      disabled: !!view.busy,
    }, choices.map(([s, label]) => h('option', { value: s, selected: s === current }, label)));
    return field('Lock automatically after', select, 'without vault activity; it also locks when the host exits');
  }

  function unattendedControl() {
    const s = view.status ?? {};
    const box = h('input', {
      type: 'checkbox',
      name: 'unattended',
      disabled: !!view.busy,
      onchange: async () => {
        const enabled = box.checked;
        try {
          const r = await call('vault.unattended', { enabled }, enabled ? 'Storing the key in the OS keychain…' : 'Removing the key…');
          say(enabled ? 'Unattended unlock is on.' : (r?.warning ? `Unattended unlock is off; ${r.warning}` : 'Unattended unlock is off.'));
        } catch { /* shown */ }
        await refresh();
      },
    });
    box.checked = !!s.unattended;
    return field(UNATTENDED_LABEL, box, UNATTENDED_HINT);
  }

  function unattendedNote() {
    const s = view.status ?? {};
    if (s.unattended_error) {
      return h('p', { class: 'vault-error vault-unattended-error', role: 'alert' },
        `Unattended unlock failed: ${s.unattended_error}. Unlock to resume protection.`);
    }
    if (s.state === 'locked' && s.unattended) {
      return h('p', { class: 'vault-hint' }, 'Unattended unlock is on: the service opens the vault by itself when it restarts. Unlock to change it.');
    }
    return null;
  }

  /** Setup: while locked, may risk still come off? (changed only while unlocked; core/lock.py) */
  function reduceLockControl() {
    const box = h('input', {
      type: 'checkbox',
      name: 'require_unlock_to_reduce',
      checked: Boolean(view.status?.require_unlock_to_reduce),
      disabled: !!view.busy,
      onchange: async () => {
        const on = box.checked;
        try {
          await call('vault.configure', { require_unlock_to_reduce: on }, 'Saving…');
          say(on ? 'While locked, closing, flattening and cancelling now need an unlock too.'
            : 'While locked, you can still close, flatten and cancel.');
        } catch { /* shown */ }
        await refresh();
      },
    });
    return field('Require unlock to close, flatten and cancel', box,
      'While the vault is locked, buying and selling always need an unlock; with this on, taking risk off does too.');
  }

  function entryList() {
    if (!view.entries.length) return h('p', { class: 'vault-empty' }, 'No broker accounts yet.');
    return h('ul', { class: 'vault-entries', 'aria-label': 'Broker accounts' },
      view.entries.map((e) => h('li', { class: 'vault-entry' },
        h('div', { class: 'vault-entry-head' },
          h('strong', {}, e.name),
          h('span', { class: 'vault-tag' }, e.broker),
          h('span', { class: `vault-tag env-${e.environment}` }, envLabel(e.broker, e.environment)),
          e.auth ? h('span', { class: 'vault-tag' }, e.auth) : null),
        h('div', { class: 'vault-masked' },
          Object.entries(e.masked).map(([k, v]) => h('code', { title: k }, `${k}: ${v}`)),
          e.secrets_set.length ? h('span', { class: 'vault-hint' }, `${e.secrets_set.join(', ')} stored`) : null),
        h('button', {
          type: 'button',
          class: 'vault-remove',
          'aria-label': `Remove ${e.name}`,
          disabled: !!view.busy,
          onclick: async () => {
            if (!globalThis.confirm?.(`Remove the account “${e.name}” from the vault?`)) return;
            try { await call('vault.remove', { id: e.id }); say(`Removed ${e.name}.`); } catch { /* shown */ }
            await refresh();
          },
        }, 'Remove'))));
  }

  function addForm() {
    return once('add', buildAddForm);
  }

  function buildAddForm() {
    const broker = h('select', { name: 'broker' }, Object.keys(FIELDS).map((b) => h('option', { value: b }, b)));
    const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 64, autocomplete: 'off' });
    const env = h('select', { name: 'environment' });
    const envField = field('Environment', env, ' ');
    const envHint = envField.querySelector('.vault-hint');
    const auth = h('select', { name: 'auth' }, h('option', { value: 'hmac' }, 'HMAC key'), h('option', { value: 'ed25519' }, 'Ed25519 key'));
    const authField = field('Key type', auth);
    const dynamic = h('div', { class: 'vault-dynamic' });
    const inputs = new Map();

    /** The environments of the chosen broker; the one chosen stays chosen while the broker allows it. */
    function environments() {
      const keep = env.value;
      const allowed = ENVIRONMENTS[broker.value];
      env.replaceChildren(...allowed.map((e) => h('option', { value: e }, envLabel(broker.value, e))));
      env.value = allowed.includes(keep) ? keep : allowed[0];
      envHint.textContent = ENV_HINTS[broker.value] ?? '';
      envHint.hidden = !ENV_HINTS[broker.value];
    }

    /** The broker's fields (the key type's for Binance); a field that stays keeps what was typed. */
    function fields() {
      const b = broker.value;
      authField.hidden = b !== 'binance';
      const typed = new Map([...inputs].map(([key, [input, kind]]) => [key, kind === 'checkbox' ? input.checked : input.value]));
      inputs.clear();
      dynamic.replaceChildren(...FIELDS[b]
        .filter(([, , , only]) => !only || only === auth.value)
        .map(([key, label, kind, , preset]) => {
          if (kind === 'checkbox') {
            const box = h('input', { type: 'checkbox', name: key });
            box.checked = typed.has(key) ? typed.get(key) : preset === true;
            inputs.set(key, [box, kind, preset]);
            return field(label, box, FIELD_HINTS[key]);
          }
          const input = kind === 'pem'
            ? h('textarea', { name: key, rows: 4, required: true, spellcheck: 'false', autocomplete: 'off',
              placeholder: '-----BEGIN PRIVATE KEY-----' })
            : h('input', {
              type: kind === 'secret' ? 'password' : kind === 'number' ? 'number' : 'text',
              name: key, required: kind !== 'optional', autocomplete: 'off', spellcheck: 'false', min: kind === 'number' ? 0 : null,
            });
          input.value = typed.get(key) ?? preset ?? '';
          inputs.set(key, [input, kind, preset]);
          return field(label, input, FIELD_HINTS[key]);
        }));
    }
    broker.addEventListener('change', () => { environments(); fields(); });
    auth.addEventListener('change', fields); // the key type changes the key fields only, never the environment
    environments();
    fields();

    return h('details', { class: 'vault-add' },
      h('summary', {}, 'Add a broker account'),
      h('form', {
        class: 'vault-form',
        onsubmit: async (ev) => {
          ev.preventDefault();
          const entry = { broker: broker.value, name: name.value.trim(), environment: env.value };
          if (broker.value === 'binance') entry.auth = auth.value;
          for (const [key, [input, kind]] of inputs) {
            if (kind === 'optional' && !input.value.trim()) continue;
            entry[key] = kind === 'number' ? Number(input.value) : kind === 'checkbox' ? input.checked : input.value;
          }
          try {
            const r = await call('vault.put', { entry });
            for (const [input, kind, preset] of inputs.values()) {
              if (kind === 'checkbox') input.checked = preset === true;
              else input.value = preset ?? '';
            }
            name.value = '';
            say(`Saved ${r.entry.name} (${r.entry.broker} · ${envLabel(r.entry.broker, r.entry.environment)}).`);
          } catch { /* shown, fields kept so the user can correct them */ }
          await refresh();
        },
      },
      field('Broker', broker),
      field('Account name', name, 'Your label, e.g. “main” or “testnet”'),
      envField,
      authField,
      dynamic,
      h('button', { type: 'submit' }, 'Save account')));
  }

  // -- render -----------------------------------------------------------------------------------
  function errorBox() {
    if (!view.error) return null;
    const errs = view.error.details?.errors;
    return h('div', { class: 'vault-error', role: 'alert' },
      h('p', {}, retryMessage(view.error.message)),
      Array.isArray(errs) && errs.length
        ? h('ul', {}, errs.map((e) => h('li', {}, `${e.field}: ${e.problem}`)))
        : null,
      damagedHelp());
  }

  function retryMessage(message) {
    // keep "try again in N s" current while the countdown runs
    const left = retryLeft();
    return left > 0 ? message.replace(/try again in \d+ s/, `try again in ${left} s`) : message;
  }

  function render() {
    const s = view.status;
    const spinner = view.busy
      ? h('p', { class: 'vault-busy', 'aria-busy': 'true' }, h('span', { class: 'vault-spinner', 'aria-hidden': 'true' }), view.busy)
      : null;
    root.setAttribute('aria-busy', view.busy ? 'true' : 'false');
    const parts = [];
    if (!s) parts.push(h('p', {}, 'Loading…'));
    else if (s.state === 'absent') parts.push(createForm());
    else if (s.state === 'locked') parts.push(h('p', { class: 'vault-state' }, '🔒 Locked'), unattendedNote(), unlockForm());
    else {
      parts.push(
        h('div', { class: 'vault-bar' },
          h('p', { class: 'vault-state' }, `🔓 Unlocked · ${s.entries ?? view.entries.length} account(s)`),
          h('button', {
            type: 'button',
            disabled: !!view.busy,
            onclick: async () => { try { await call('vault.lock'); say('Vault locked.'); } catch { /* shown */ } await refresh(); },
          }, 'Lock now')),
        entryList(), addForm(), changePasswordForm(), autolockControl(), reduceLockControl(), unattendedControl(),
        unattendedNote(),
        s.kdf ? h('p', { class: 'vault-hint' }, `Key derivation: ${s.kdf}`) : null);
    }
    if (s) parts.push(h('p', { class: 'vault-hint vault-path' }, `File: ${s.path}${s.backup ? ' (with .bak)' : ''}`));
    // The forms are kept elements (what was typed, open <details>); focus survives the move.
    const focused = document.activeElement?.closest?.('.vault') === root ? document.activeElement : null;
    if (!view.busy || !body.firstChild) {
      body.replaceChildren(spinner ?? '', errorBox() ?? '', ...parts.filter(Boolean));
      for (const b of body.querySelectorAll('form button, form select')) b.disabled = false;
      const unlock = kept.get('unlock')?.querySelector('button[type="submit"]');
      if (unlock) unlock.disabled = retryLeft() > 0;
      if (focused?.isConnected && document.activeElement !== focused) focused.focus();
    } else {
      // while busy, only swap the status line so the form (and what was typed) stays put
      body.querySelector('.vault-busy')?.remove();
      body.querySelector('.vault-error')?.remove();
      body.prepend(spinner);
      for (const b of body.querySelectorAll('button, select')) b.disabled = true;
    }
  }

  // Another panel, the auto-lock or the CLI changed the vault: the host's status says so.
  let seenRev = null;
  client.on('status', (payload) => {
    const rev = payload?.vault_rev ?? null;
    const changed = (payload?.vault && payload.vault !== view.status?.state) || (seenRev !== null && rev !== seenRev);
    seenRev = rev;
    if (changed && !view.busy) refresh();
  });
  client.onStatus?.((st) => { if (st.state === 'connected') refresh(); });
  refresh();
  return { refresh };
}
