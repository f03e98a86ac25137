// DOM helpers, formatting, and the notice area where every error ends up (never swallowed).

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== 'string') node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function setText(id, value) {
  $(id).textContent = value === null || value === undefined || value === '' ? '–' : String(value);
}

// A <dl> filled from [label, value] pairs; a value may be a Node.
export function fillKV(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([label, value]) => [
    el('dt', { text: label }),
    el('dd', {}, value instanceof Node ? value : (value === null || value === undefined || value === '' ? '–' : String(value))),
  ]));
}

export function fmtNumber(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '–';
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function fmtPercent(value, digits = 1) {
  return value === null || value === undefined ? '–' : `${Number(value).toFixed(digits)}%`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.max(0, Number(seconds));
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

export function parseTime(iso) {
  if (!iso) return null;
  // The API writes UTC; a timestamp without a zone (log lines) is read as UTC too.
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso.replace(' ', 'T')}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export function fmtTime(iso) {
  const ms = parseTime(iso);
  return ms === null ? '–' : new Date(ms).toLocaleString();
}

export function shortHash(hash) {
  return hash && hash.length > 18 ? `${hash.slice(0, 10)}…${hash.slice(-6)}` : (hash || '–');
}

export function pill(text, kind = text) {
  return el('span', { class: `pill ${String(kind || '').toLowerCase()}`, text: text ?? '–' });
}

export function describeError(err) {
  if (err && err.code && err.message) {
    const field = err.details && err.details.field ? ` (${err.details.field}: ${err.details.message || ''})` : '';
    return `${err.message} [${err.code}]${field}`;
  }
  return err && err.message ? err.message : String(err);
}

export function notify(message, kind = 'error') {
  const box = el('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    el('span', { text: message }));
  box.append(el('button', { type: 'button', text: 'Dismiss', 'aria-label': 'Dismiss message', onclick: () => box.remove() }));
  $('notices').append(box);
  if (kind !== 'error') setTimeout(() => box.remove(), 6000);
  return box;
}

export function reportError(context, err) {
  console.error(context, err);
  notify(`${context}: ${describeError(err)}`);
}
