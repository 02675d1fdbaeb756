// Pure formatting for the panel shell (unit tested under node).

/** Status-bar label and a longer line for diagnostics / the connection log. */
export function formatStatus(status) {
  const msg = status.message ? ` — ${status.message}` : '';
  switch (status.state) {
    case 'connected': {
      const pid = status.pid != null ? ` (pid ${status.pid})` : '';
      return { label: 'Connected', detail: `Connected to host ${status.hostVersion ?? '?'}${pid}` };
    }
    case 'reconnecting': {
      const label = `Reconnecting (attempt ${status.attempt})`;
      const wait = status.nextRetryMs != null ? ` in ${(status.nextRetryMs / 1000).toFixed(1)} s` : '';
      return { label, detail: `${label}${wait}${msg}` };
    }
    case 'install': {
      const label = status.reason === 'forbidden' ? 'Host not allowed' : 'Host not installed';
      return { label, detail: `${label}${msg}` };
    }
    case 'error':
      return { label: 'Host error', detail: `Host error${msg}` };
    default:
      return { label: 'Connecting…', detail: `Connecting${msg}` };
  }
}

export function formatLatency(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '—';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${sec} s`;
  return `${sec} s`;
}

/**
 * Rows for the shortcuts table from chrome.commands.getAll() (which Chrome sorts by name): in the
 * manifest's order when given (the panel toggle first), and an empty shortcut stays empty, meaning
 * the browser left it unassigned (the key is taken by the browser, or none was suggested).
 * @param {{name: string, description?: string, shortcut?: string}[]} commands
 * @param {string[]} [order] command names in the order to show them
 */
export function shortcutRows(commands, order = []) {
  const rank = (name) => {
    if (name === '_execute_action') return -1;
    const i = order.indexOf(name);
    return i === -1 ? order.length : i;
  };
  return [...commands]
    .sort((a, b) => rank(a.name) - rank(b.name))
    .map((c) => ({
      name: c.name,
      description: c.description || (c.name === '_execute_action' ? 'Open the Sidedesk panel' : c.name),
      shortcut: c.shortcut || '',
    }));
}
