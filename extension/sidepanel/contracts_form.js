// Setup -> Contracts: the text form of the pinned contract ids (pure; unit-tested).
// One pin per line, "SYMBOL = id", e.g. "/ESZ26:XCME = 4242" or "ESZ26 = 4242"; # starts a comment.

const KEY = /^[A-Za-z0-9/:._-]{1,64}$/;

export function parseContracts(text) {
  const map = {};
  const errors = [];
  String(text ?? '').split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const m = line.match(/^(\S+)\s*=\s*(\d+)$/);
    if (!m) {
      errors.push(`line ${i + 1}: write SYMBOL = id (a whole number)`);
      return;
    }
    const [, key, id] = m;
    if (!KEY.test(key)) {
      errors.push(`line ${i + 1}: "${key}" is not a symbol (letters, digits and / : . _ - only)`);
    } else if (Number(id) <= 0 || !Number.isSafeInteger(Number(id))) {
      errors.push(`line ${i + 1}: the contract id must be a positive whole number`);
    } else if (key in map) {
      errors.push(`line ${i + 1}: ${key} is pinned twice`);
    } else {
      map[key] = Number(id);
    }
  });
  return { map, errors };
}

export function formatContracts(map) {
  return Object.keys(map ?? {}).sort().map((k) => `${k} = ${map[k]}`).join('\n');
}
