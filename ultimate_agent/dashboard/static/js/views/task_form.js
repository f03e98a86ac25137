// The start-task form, built from the chosen task type's documented config keys; the server validates it
// and each of its errors is shown next to the field it names.

import { api } from '../api.js';
import { $, describeError, el, notify } from '../dom.js';

const JSON_KINDS = ['list', 'dict', 'raw', 'nested'];
let types = [];
let onStarted = () => {};

function fieldId(name) {
  return `cfg-${name}`;
}

function control(name, spec) {
  const id = fieldId(name);
  const common = { id, name, 'aria-describedby': `${id}-help ${id}-error`, dataset: { kind: spec.type } };
  const placeholder = spec.default === null || spec.default === undefined ? '' : JSON.stringify(spec.default);
  if (spec.type === 'boolean') {
    return el('select', common,
      el('option', { value: '', text: placeholder ? `default (${placeholder})` : 'default' }),
      el('option', { value: 'true', text: 'true' }), el('option', { value: 'false', text: 'false' }));
  }
  if (JSON_KINDS.includes(spec.type)) {
    return el('textarea', { ...common, rows: 2, placeholder: placeholder || 'JSON' });
  }
  if (spec.type === 'integer' || spec.type === 'float') {
    return el('input', { ...common, type: 'number', step: spec.type === 'integer' ? '1' : 'any', inputmode: 'decimal', placeholder });
  }
  return el('input', { ...common, type: 'text', placeholder: placeholder.replace(/^"|"$/g, '') });
}

function renderFields() {
  const type = types.find((t) => t.name === $('start-type').value);
  const box = $('start-config');
  box.querySelectorAll('.field').forEach((node) => node.remove());
  $('start-type-help').textContent = type ? type.description : '';
  if (!type) return;
  const entries = Object.entries(type.config || {});
  if (!entries.length) box.append(el('p', { class: 'field help', text: 'This task type takes no configuration.' }));
  for (const [name, spec] of entries) {
    const id = fieldId(name);
    const description = spec.description && !/[.!?)]$/.test(spec.description) ? `${spec.description}.` : spec.description;
    const help = [description, spec.default !== null && spec.default !== undefined ? `Default: ${JSON.stringify(spec.default)}.` : '',
      spec.required ? 'Required.' : ''].filter(Boolean).join(' ');
    box.append(el('div', { class: 'field' },
      el('label', { for: id, text: name }),
      control(name, spec),
      el('p', { id: `${id}-help`, class: 'help', text: help }),
      el('p', { id: `${id}-error`, class: 'field-error', dataset: { errorFor: name } })));
  }
}

function clearErrors() {
  for (const node of $('start-form').querySelectorAll('.field-error')) node.textContent = '';
  for (const node of $('start-form').querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
  $('start-error').textContent = '';
}

// Show a message next to a field; false when the form has no such field.
function fieldError(name, message) {
  const input = name === 'type' || name === 'priority' ? $(`start-${name}`) : $(fieldId(name));
  const slot = name === 'type' || name === 'priority' ? $(`start-${name}-error`) : $(`${fieldId(name)}-error`);
  if (!input || !slot) return false;
  slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
  input.setAttribute('aria-invalid', 'true');
  return true;
}

function collect() {
  const config = {};
  const problems = [];
  for (const input of $('start-config').querySelectorAll('input, select, textarea')) {
    const kind = input.dataset.kind;
    const text = input.value.trim();
    if (input.validity && input.validity.badInput) {
      problems.push([input.name, 'Enter a number.']);
      continue;
    }
    if (text === '') continue; // the server fills in the documented default
    if (kind === 'boolean') config[input.name] = text === 'true';
    else if (kind === 'integer' || kind === 'float') config[input.name] = Number(text);
    else if (JSON_KINDS.includes(kind)) {
      try {
        config[input.name] = JSON.parse(text);
      } catch (err) {
        problems.push([input.name, `Not valid JSON (${err.message}).`]);
      }
    } else config[input.name] = text;
  }
  return { config, problems };
}

// The server's details.errors: {config: {field: [msg]}} for a task's config, {json: {field: ...}} for the body.
function showServerErrors(err) {
  const errors = err.details && err.details.errors;
  let placed = 0;
  const place = (fields, nestedConfig) => {
    for (const [name, messages] of Object.entries(fields || {})) {
      if (name === 'config' && !nestedConfig && messages && !Array.isArray(messages)) {
        place(messages, true);
        continue;
      }
      const text = Array.isArray(messages) ? messages.join(' ') : (typeof messages === 'string' ? messages : JSON.stringify(messages));
      if (fieldError(name === '_schema' ? '' : name, text)) placed += 1;
    }
  };
  if (errors && typeof errors === 'object') {
    for (const [location, fields] of Object.entries(errors)) place(fields, location === 'config');
  }
  if (!placed && err.details && err.details.field && fieldError(err.details.field, err.details.message || err.message)) placed += 1;
  $('start-error').textContent = placed ? `${err.message}: see the highlighted field.` : `Could not start the task: ${describeError(err)}`;
  const first = $('start-form').querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const { config, problems } = collect();
  const priorityText = $('start-priority').value.trim();
  if ($('start-priority').validity.badInput) problems.push(['priority', 'Enter a number.']);
  if (problems.length) {
    problems.forEach(([name, message]) => fieldError(name, message));
    $('start-error').textContent = 'Fix the highlighted field.';
    $('start-form').querySelector('[aria-invalid="true"]')?.focus();
    return;
  }
  const body = { type: $('start-type').value, config };
  if (priorityText !== '') body.priority = Number(priorityText);
  const button = $('start-form').querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const reply = await api('/api/start_task', { method: 'POST', body });
    onStarted({ task_id: reply.task_id, task_type: reply.task_type, status: reply.status === 'started' ? 'running' : 'queued',
      priority: reply.priority, estimated_duration: reply.estimated_duration });
    notify(`Task ${reply.task_id} ${reply.status} (estimated ${Math.round(reply.estimated_duration)} s)`, 'info');
  } catch (err) {
    if (err.status === 400) showServerErrors(err);
    else $('start-error').textContent = `Could not start the task: ${describeError(err)}`;
  } finally {
    button.disabled = false;
  }
}

export function init(started) {
  onStarted = started;
  $('start-form').addEventListener('submit', submit);
  $('start-type').addEventListener('change', () => {
    clearErrors();
    renderFields();
  });
}

export async function load() {
  if (types.length) return;
  const reply = await api('/api/v4/task_types');
  types = reply.task_types || [];
  const select = $('start-type');
  select.replaceChildren(...types.map((t) => el('option', { value: t.name, text: t.name })));
  if (types.some((t) => t.name === 'neural_network_training')) select.value = 'neural_network_training';
  renderFields();
}
