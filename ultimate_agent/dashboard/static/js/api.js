// fetch() for the agent's REST API: JSON in and out, the seed's error envelope turned into ApiError.

import { expire, token } from './session.js';

export class ApiError extends Error {
  constructor(message, { status = 0, code = 'NETWORK_ERROR', details = {} } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export async function api(path, { method = 'GET', body, query, auth } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
  }
  const headers = { Accept: 'application/json' };
  const bearer = auth || token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(`The agent could not be reached (${err.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(`Unexpected reply from ${url.pathname} (HTTP ${response.status})`, { status: response.status, code: 'BAD_REPLY' });
    }
  }
  if (!response.ok) {
    const error = new ApiError(data?.error || `HTTP ${response.status}`, {
      status: response.status, code: data?.error_code || 'HTTP_ERROR', details: data?.details,
    });
    if (response.status === 401 && !auth) expire();
    throw error;
  }
  return data;
}
