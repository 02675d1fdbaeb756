// Unprotected positions (the host's `status.unprotected`, computed by core/unprotected.py): the
// one action that fixes each, and the desktop notifications the service worker shows for them.
// Pure (no chrome.*): the worker and the panel import it, node's test runner tests it.
//
// A notification is shown once per position per episode: when a position becomes unprotected,
// not on every status push while it stays so, and it is cleared the moment the host no longer
// lists it (protected again, or closed). A position that becomes unprotected again later starts
// a new episode and is notified again.

export const NOTIFICATION_PREFIX = 'sidedesk-unprotected:';
export const FIX_KEY = 'sidedesk.fix'; // chrome.storage.session: the fix a notification asked for
export const NOTIFIED_KEY = 'sidedesk.unprotected.notified'; // chrome.storage.session: open episodes

// reason -> the button's label, the panel tab and the control it focuses
export const FIX_ACTIONS = Object.freeze({
  locked: { label: 'Unlock', tab: 'setup', focus: 'vault' },
  asl_off: { label: 'Turn ASL on', tab: 'setup', focus: 'asl' },
  link_down: { label: 'Reconnect', tab: 'setup', focus: 'accounts' },
  stop_missing: { label: 'Flatten', tab: 'trade', focus: 'flatten' },
});

/** The fix for one unprotected row: {reason, label, tab, focus, text}. */
export function fixOf(row) {
  const action = FIX_ACTIONS[row?.reason] ?? FIX_ACTIONS.link_down;
  return { reason: row?.reason ?? 'link_down', ...action, text: String(row?.fix ?? '') };
}

export function unprotectedKey(row) {
  return `${row.account_id}|${row.symbol}|${row.position_side ?? 'BOTH'}`;
}

function valid(row) {
  return row && typeof row === 'object' && typeof row.symbol === 'string' && typeof row.account_id === 'string';
}

/** "BTCUSDT LONG 0.01" (the side only in hedge mode). */
export function positionWords(row) {
  const side = row.position_side && row.position_side !== 'BOTH' ? ` ${row.position_side}` : '';
  return `${row.symbol}${side} ${row.quantity ?? ''}`.trim();
}

/**
 * What the trader calls account `accountId`: its vault entry's name, with the venue's name of
 * the account when the login holds several ("Apex · DEMO700002"), from `accounts.list` rows; else
 * the venue's name from the status topic's brokers; else the id itself.
 */
export function accountLabel(accountId, accounts = [], brokers = []) {
  const listed = (Array.isArray(accounts) ? accounts : []).find((a) => a?.id === accountId);
  if (listed?.name) {
    const venue = listed.account_name && listed.account_name !== listed.name ? ` · ${listed.account_name}` : '';
    return `${listed.name}${venue}`;
  }
  const link = (Array.isArray(brokers) ? brokers : []).find((b) => b?.account_id === accountId);
  return link?.account_name || String(accountId ?? '');
}

/** Whether the fix acts on the row's own account (Flatten, Turn ASL on, Reconnect): it must
 * make that account the active one first. Unlock is the vault's, for every account at once. */
export function fixActsOnAccount(fix) {
  return fix?.reason !== 'locked';
}

/** What chrome.notifications.create gets for one row (its id is stable per position); `label`
 * names its account (accountLabel). */
export function notificationFor(row, label = row?.account_id) {
  const fix = fixOf(row);
  return {
    id: `${NOTIFICATION_PREFIX}${unprotectedKey(row)}`,
    title: `Sidedesk — unprotected: ${positionWords(row)} on ${label}`,
    message: `No working managed stop protects it on account ${label}: ${fix.text || fix.label}.`,
    button: fix.label,
    fix: { ...fix, account_id: row.account_id },
  };
}

export class UnprotectedNotifier {
  /** @param {string[]} [open] keys notified in an episode still open (kept across worker restarts) */
  constructor(open = []) {
    this.open = new Map(); // key -> {id, fix}
    for (const key of Array.isArray(open) ? open : []) {
      if (typeof key === 'string') this.open.set(key, { id: `${NOTIFICATION_PREFIX}${key}`, fix: null });
    }
  }

  /**
   * The host's latest list of unprotected positions -> what to show and what to clear;
   * `labelOf(accountId)` names each row's account in its notification.
   * @returns {{show: ReturnType<typeof notificationFor>[], clear: string[]}}
   */
  update(rows, labelOf = (accountId) => accountId) {
    const now = new Map((Array.isArray(rows) ? rows : []).filter(valid).map((r) => [unprotectedKey(r), r]));
    const show = [];
    const clear = [];
    for (const [key, row] of now) {
      const known = this.open.get(key);
      const fix = { ...fixOf(row), account_id: row.account_id };
      if (known) {
        known.fix = fix; // same episode: no new notification, but a click fixes today's reason
        continue;
      }
      const n = notificationFor(row, labelOf(row.account_id));
      this.open.set(key, { id: n.id, fix });
      show.push(n);
    }
    for (const [key, v] of [...this.open]) {
      if (!now.has(key)) {
        this.open.delete(key);
        clear.push(v.id);
      }
    }
    return { show, clear };
  }

  /** The fix a click on notification `id` asks for (null: not ours, or no longer unprotected). */
  fixFor(id) {
    for (const v of this.open.values()) if (v.id === id) return v.fix ?? { reason: null, label: 'Open', tab: 'trade', focus: 'unprotected', text: '' };
    return null;
  }

  /** Open episodes, to keep across a worker restart. */
  keys() {
    return [...this.open.keys()];
  }
}
