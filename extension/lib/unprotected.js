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

/** What chrome.notifications.create gets for one row (its id is stable per position). */
export function notificationFor(row) {
  const fix = fixOf(row);
  return {
    id: `${NOTIFICATION_PREFIX}${unprotectedKey(row)}`,
    title: `Sidedesk — unprotected: ${positionWords(row)}`,
    message: `No working managed stop protects it: ${fix.text || fix.label}.`,
    button: fix.label,
    fix,
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
   * The host's latest list of unprotected positions -> what to show and what to clear.
   * @returns {{show: ReturnType<typeof notificationFor>[], clear: string[]}}
   */
  update(rows) {
    const now = new Map((Array.isArray(rows) ? rows : []).filter(valid).map((r) => [unprotectedKey(r), r]));
    const show = [];
    const clear = [];
    for (const [key, row] of now) {
      const known = this.open.get(key);
      const fix = fixOf(row);
      if (known) {
        known.fix = fix; // same episode: no new notification, but a click fixes today's reason
        continue;
      }
      const n = notificationFor(row);
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
