// Runs one remote command over HTTP (admin tokens only); the reply carries the result or why it failed.

import { api } from '../api.js';

export async function runCommand(commandType, parameters) {
  // A fresh id per click: the agent replays the first reply of a repeated id instead of running it twice.
  const commandId = `dash-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
  return api('/api/v4/remote/command', { method: 'POST', body: { command_type: commandType, parameters, command_id: commandId } });
}
