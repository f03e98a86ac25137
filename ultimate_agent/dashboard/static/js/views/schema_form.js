// Form fields from a JSON schema (a remote command's parameters), with per-field error slots.

import { el } from '../dom.js';

function inputFor(id, name, prop, required) {
  const describedBy = `${id}-help ${id}-error`;
  const enumValues = prop.enum || (prop.items && prop.items.enum);
  if (enumValues || prop.type === 'boolean') {
    const values = enumValues || [true, false];
    const options = values.filter((v) => v !== null).map((v) => el('option', { value: String(v), text: String(v) }));
    // First option: "none" where null is allowed, the default where there is one, else an explicit choice
    // (a required flag such as enable_gpu's is never preselected).
    if (values.includes(null)) options.unshift(el('option', { value: '', text: '(none)' }));
    else if (!required) options.unshift(el('option', { value: '', text: prop.default !== undefined ? `default (${prop.default})` : 'default' }));
    else options.unshift(el('option', { value: '', text: 'choose…' }));
    return el('select', { id, name, 'aria-describedby': describedBy, dataset: { kind: enumValues ? 'enum' : 'boolean' } }, ...options);
  }
  if (prop.type === 'integer' || prop.type === 'number') {
    return el('input', {
      id, name, type: 'number', step: prop.type === 'integer' ? '1' : 'any', min: prop.minimum, max: prop.maximum,
      placeholder: prop.default ?? '', 'aria-describedby': describedBy, dataset: { kind: prop.type },
    });
  }
  if (prop.type === 'object' || prop.type === 'array') {
    return el('textarea', { id, name, rows: 2, placeholder: prop.type === 'object' ? '{"key": "value"}' : '[...]', 'aria-describedby': describedBy, dataset: { kind: 'json' } });
  }
  return el('input', { id, name, type: 'text', placeholder: prop.default ?? '', 'aria-describedby': describedBy, dataset: { kind: 'string' } });
}

function helpText(prop, required) {
  const range = prop.minimum !== undefined || prop.maximum !== undefined ? `Range ${prop.minimum ?? '…'}–${prop.maximum ?? '…'}.` : '';
  const fallback = prop.default !== undefined && prop.default !== null ? `Default: ${JSON.stringify(prop.default)}.` : '';
  return [prop.description ? `${prop.description}.`.replace(/\.\.$/, '.') : '', range, fallback, required ? 'Required.' : ''].filter(Boolean).join(' ');
}

export function schemaForm(schema, prefix) {
  const properties = (schema && schema.properties) || {};
  const required = new Set((schema && schema.required) || []);
  const inputs = new Map();
  const errors = new Map();
  const fields = Object.entries(properties).map(([name, prop]) => {
    const id = `${prefix}-${name}`;
    const input = inputFor(id, name, prop, required.has(name));
    const error = el('p', { id: `${id}-error`, class: 'field-error' });
    inputs.set(name, input);
    errors.set(name, error);
    return el('div', { class: 'field' },
      el('label', { for: id, text: required.has(name) ? `${name} (required)` : name }),
      input, el('p', { id: `${id}-help`, class: 'help', text: helpText(prop, required.has(name)) }), error);
  });

  function clear() {
    for (const [name, error] of errors) {
      error.textContent = '';
      inputs.get(name).removeAttribute('aria-invalid');
    }
  }

  function showError(name, message) {
    const key = String(name || '').replace(/^parameters\./, '').split('.')[0];
    if (!errors.has(key)) return false;
    errors.get(key).textContent = message;
    inputs.get(key).setAttribute('aria-invalid', 'true');
    inputs.get(key).focus();
    return true;
  }

  function collect() {
    const params = {};
    let ok = true;
    for (const [name, input] of inputs) {
      const text = input.value.trim();
      if (input.validity && input.validity.badInput) {
        ok = showError(name, 'Enter a number.') && false;
        continue;
      }
      if (text === '') {
        // An enum that lists null means "no value": send it explicitly.
        if (input.dataset.kind === 'enum' && (properties[name].enum || []).includes(null)) params[name] = null;
        continue;
      }
      const kind = input.dataset.kind;
      if (kind === 'boolean') params[name] = text === 'true';
      else if (kind === 'enum') params[name] = (properties[name].enum || []).find((v) => v !== null && String(v) === text) ?? text;
      else if (kind === 'integer' || kind === 'number') params[name] = Number(text);
      else if (kind === 'json') {
        try {
          params[name] = JSON.parse(text);
        } catch (err) {
          ok = showError(name, `Not valid JSON (${err.message}).`) && false;
        }
      } else params[name] = text;
    }
    return ok ? params : null;
  }

  return { fields, clear, showError, collect };
}
