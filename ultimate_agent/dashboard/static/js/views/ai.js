// AI: the model registry (accuracy, status) and an inference box.

import { api } from '../api.js';
import { $, describeError, el, fmtNumber, pill, reportError } from '../dom.js';
import * as realtime from '../realtime.js';
import { isActive } from '../router.js';

let models = [];

function metricText(model) {
  if (model.accuracy === null || model.accuracy === undefined) return model.metric ? `${model.metric}: –` : 'no held-out metric';
  return `${model.metric || 'accuracy'}: ${fmtNumber(model.accuracy, 4)}`;
}

function renderModels() {
  $('models-table').tBodies[0].replaceChildren(...models.map((m) => el('tr', { dataset: { model: m.name } },
    el('td', { dataset: { label: 'Model' } }, el('strong', { text: m.name }), m.description ? el('p', { class: 'help', text: m.description }) : ''),
    el('td', { dataset: { label: 'Type' }, text: m.type }),
    el('td', { dataset: { label: 'Status' } }, pill(m.status, m.status === 'loaded' ? 'ok' : (m.status === 'failed' ? 'bad' : 'warn')),
      m.error ? el('span', { class: 'help', text: ` ${m.error}` }) : ''),
    el('td', { dataset: { label: 'Metric' }, text: metricText(m) }),
    el('td', { dataset: { label: 'Parameters' }, text: fmtNumber(m.parameters, 0) }),
    el('td', { dataset: { label: 'Source' }, text: m.source }))));
  const select = $('inference-model');
  const chosen = select.value;
  const usable = models.filter((m) => m.status === 'loaded');
  select.replaceChildren(...usable.map((m) => el('option', { value: m.name, text: `${m.name} (${m.type})` })));
  select.value = usable.some((m) => m.name === chosen) ? chosen : (usable.some((m) => m.name === 'sentiment') ? 'sentiment' : (usable[0]?.name || ''));
  describeInput();
}

function selectedModel() {
  return models.find((m) => m.name === $('inference-model').value);
}

function describeInput() {
  const model = selectedModel();
  const spec = model && model.input;
  const help = !model ? 'No model is loaded yet.'
    : spec && spec.type === 'string' ? `${spec.description || 'Text'}.`
      : `${spec?.description || 'Numbers'}: a JSON array${spec?.shape ? ` of shape [${spec.shape}]` : ''}, or a list of them for a batch.`;
  $('inference-input-help').textContent = help;
}

function scoreList(scores) {
  return el('ul', { class: 'scores', 'aria-label': 'Scores' }, ...Object.entries(scores).map(([label, value]) => el('li', {},
    el('span', { text: label }),
    el('meter', { min: 0, max: 1, value, 'aria-label': `${label} score` }),
    el('span', { class: 'score-value', dataset: { label }, text: fmtNumber(value, 4) }))));
}

function renderPrediction(result) {
  const scores = result.sentiment_scores || result.probabilities;
  return el('div', { class: 'prediction' },
    el('p', {}, 'Prediction: ', el('strong', { class: 'prediction-label', text: typeof result.prediction === 'string' ? result.prediction : JSON.stringify(result.prediction) }),
      result.confidence !== undefined && result.confidence !== null ? ` (confidence ${fmtNumber(result.confidence, 4)})` : ''),
    scores ? scoreList(scores) : '');
}

function renderResult(reply) {
  const items = reply.predictions || [reply];
  $('inference-result').replaceChildren(
    ...items.map(renderPrediction),
    el('p', { class: 'muted', text: `Model ${reply.model_name} v${reply.model_version}, ${fmtNumber(reply.processing_time * 1000, 1)} ms${reply.cached ? ', from cache' : ''}.` }));
}

async function infer(event) {
  event.preventDefault();
  const input = $('inference-input');
  $('inference-error').textContent = '';
  input.removeAttribute('aria-invalid');
  const model = selectedModel();
  if (!model) {
    $('inference-error').textContent = 'No model is loaded yet.';
    return;
  }
  let value = input.value;
  if (!(model.input && model.input.type === 'string')) {
    try {
      value = JSON.parse(value);
    } catch (err) {
      input.setAttribute('aria-invalid', 'true');
      $('inference-error').textContent = `This model takes a JSON array: ${err.message}`;
      return;
    }
  }
  const button = $('inference-form').querySelector('button');
  button.disabled = true;
  try {
    renderResult(await api('/api/ai/inference', {
      method: 'POST', body: { model: model.name, input: value, options: { return_confidence: true, return_details: true } },
    }));
  } catch (err) {
    input.setAttribute('aria-invalid', 'true');
    $('inference-error').textContent = `Inference failed: ${describeError(err)}`;
    $('inference-result').replaceChildren();
  } finally {
    button.disabled = false;
  }
}

export function init() {
  $('inference-form').addEventListener('submit', infer);
  $('inference-model').addEventListener('change', describeInput);
  // A finished training task may have added a servable model.
  realtime.on('task_completed', () => {
    if (isActive('ai')) refresh();
  });
}

export async function show() {
  const reply = await api('/api/v4/ai/models');
  models = reply.models || [];
  renderModels();
}

export function refresh() {
  return show().catch((err) => reportError('Reading models', err));
}
