// Starts a real agent (`ultimate-agent serve`, gunicorn) on a free port with a fresh instance folder.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The Python that runs the agent: $ULTIMATE_AGENT_PYTHON, else the repo's .venv, else python3. */
export function python() {
  if (process.env.ULTIMATE_AGENT_PYTHON) return process.env.ULTIMATE_AGENT_PYTHON;
  const venv = join(REPO, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Start an agent; resolves to {url, adminKey, instance, stop()} once /api/health answers.
 * @param {object} config extra ULTIMATE_AGENT_* settings, e.g. {RATE_LIMIT_GENERAL: '3 per 1 second'}
 */
export async function startAgent(config = {}) {
  const port = await freePort();
  const instance = mkdtempSync(join(tmpdir(), 'ua-js-'));
  const env = { ...process.env, ULTIMATE_AGENT_INSTANCE_PATH: instance, ULTIMATE_AGENT_NODE_URL: '' };
  for (const [key, value] of Object.entries(config)) env[`ULTIMATE_AGENT_${key}`] = String(value);
  let log = '';
  const child = spawn(python(), ['-m', 'ultimate_agent.cli', 'serve', '--port', String(port), '--threads', '16'],
    { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk) => { log += chunk; });
  child.stderr.on('data', (chunk) => { log += chunk; });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the agent exited (${child.exitCode}):\n${log}`);
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`the agent did not come up:\n${log}`); }
    try {
      if ((await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  const adminKey = readFileSync(join(instance, 'admin_api_key'), 'utf8').trim();
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM'); // the agent stops its tasks and its embedded chain node on TERM
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    // An agent killed before its own shutdown ran leaves its embedded chain node (started in its own
    // session) running; the node's pid file says which process that is.
    try {
      const { pid } = JSON.parse(readFileSync(join(instance, 'chain', 'node.json'), 'utf8'));
      process.kill(pid, 'SIGTERM');
    } catch { /* no node, or it already stopped */ }
    rmSync(instance, { recursive: true, force: true });
  };
  return { url, adminKey, instance, stop };
}
