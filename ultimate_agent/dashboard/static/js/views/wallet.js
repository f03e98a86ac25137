// Wallet: address, balances per currency, transactions (hash, gas, block, task) and earnings over time.

import { api } from '../api.js';
import { lineChart } from '../charts.js';
import { $, el, fillKV, fmtNumber, fmtTime, parseTime, pill, reportError, shortHash } from '../dom.js';
import * as realtime from '../realtime.js';
import { isActive } from '../router.js';

// The transactions endpoint pages at most 100; the earnings curve reads this many pages at most.
const PAGE = 100;
const MAX_PAGES = 10;
let earningsChart = null;

function renderStatus(status, balance) {
  $('wallet-address').textContent = status.wallet || 'No wallet';
  fillKV($('wallet-networks'), (status.networks || []).map((n) => [n.name,
    el('span', {}, pill(n.status, n.status === 'connected' ? 'ok' : 'bad'), ` chain ${n.chain_id}, block ${n.block_number ?? '–'}`)]));
  fillKV($('wallet-balances'), Object.entries(balance.balances || {}).map(([currency, amount]) => [currency,
    el('span', { class: 'balance', dataset: { currency }, text: fmtNumber(amount, 8) })]));
  $('wallet-total').textContent = balance.total_value_usd !== undefined
    ? `≈ ${fmtNumber(balance.total_value_usd, 2)} USD (${balance.price_source || 'configured prices'})` : '';
}

function renderTransactions(page) {
  $('tx-count').textContent = `(${page.transactions.length} of ${page.total_count})`;
  $('tx-table').tBodies[0].replaceChildren(...page.transactions.map((tx) => el('tr', { dataset: { hash: tx.hash } },
    el('td', { dataset: { label: 'Time' }, text: fmtTime(tx.timestamp) }),
    el('td', { dataset: { label: 'Kind' }, text: tx.kind || tx.method || '–' }),
    el('td', { dataset: { label: 'Amount' }, text: `${fmtNumber(tx.amount, 8)} ${tx.currency || ''}` }),
    el('td', { dataset: { label: 'Status' } }, pill(tx.status), tx.error ? el('span', { class: 'help', text: ` ${tx.error}` }) : ''),
    el('td', { dataset: { label: 'Hash' } }, el('span', { class: 'mono tx-hash', title: tx.hash, text: shortHash(tx.hash) })),
    el('td', { dataset: { label: 'Gas' }, text: fmtNumber(tx.gas_used, 0) }),
    el('td', { dataset: { label: 'Block' }, text: tx.block_number ?? '–' }),
    el('td', { dataset: { label: 'Task' } }, tx.task_id
      ? el('a', { href: `#/tasks/${encodeURIComponent(tx.task_id)}`, class: 'mono', text: tx.task_id }) : '–'))));
}

async function drawEarnings(firstPage) {
  const transactions = [...firstPage.transactions];
  for (let page = 2; page <= MAX_PAGES && transactions.length < firstPage.total_count; page += 1) {
    const more = await api('/api/blockchain/transactions', { query: { limit: PAGE, page } });
    transactions.push(...more.transactions);
    if (!more.transactions.length) break;
  }
  const rewards = transactions
    .filter((tx) => tx.kind === 'reward_claim' && tx.status === 'confirmed' && parseTime(tx.timestamp) !== null)
    .sort((a, b) => parseTime(a.timestamp) - parseTime(b.timestamp));
  $('earnings-empty').hidden = rewards.length > 0;
  $('chart-earnings').hidden = rewards.length === 0;
  if (!earningsChart) earningsChart = lineChart($('chart-earnings'), { title: 'Cumulative rewards (ETH)', series: ['Earned'] });
  let total = 0;
  earningsChart.setData([rewards.map((tx) => parseTime(tx.timestamp) / 1000), rewards.map((tx) => {
    total += tx.amount;
    return total;
  })]);
}

async function load() {
  const [status, balance, page] = await Promise.all([
    api('/api/v3/blockchain/enhanced'), api('/api/blockchain/balance'),
    api('/api/blockchain/transactions', { query: { limit: PAGE } }),
  ]);
  renderStatus(status, balance);
  renderTransactions({ ...page, transactions: page.transactions.slice(0, 25) });
  await drawEarnings(page);
}

export function init() {
  realtime.on('reward_claimed', () => {
    if (isActive('wallet')) load().catch((err) => reportError('Reading the wallet', err));
  });
}

export async function show() {
  await load();
}
