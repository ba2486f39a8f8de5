// The public REST API, as the dashboard calls it: same-origin fetch with the session cookie,
// the CSRF token echoed on writes, and the active organisation in the pulse_org cookie.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.details = (body && body.details) || '';
  }
}

function cookie(name) {
  const hit = document.cookie.split('; ').find((c) => c.startsWith(name + '='));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : '';
}

export function activeOrg() {
  return cookie('pulse_org');
}

export function setActiveOrg(id) {
  document.cookie = id
    ? `pulse_org=${encodeURIComponent(id)}; Path=/; SameSite=Lax`
    : 'pulse_org=; Path=/; Max-Age=0; SameSite=Lax';
}

let unauthorized = () => {};
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// api('GET', '/api/devices'); a string body is sent as text/csv, anything else as JSON.
// With {page: true} the answer is {data, next} (the X-Next-Cursor header).
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = cookie('pulse_csrf');
  let payload;
  if (body !== undefined) {
    const csv = typeof body === 'string';
    headers['Content-Type'] = csv ? 'text/csv' : 'application/json';
    payload = csv ? body : JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet) unauthorized();
    throw new ApiError(res.status, data);
  }
  return opts.page ? { data, next: res.headers.get('X-Next-Cursor') } : data;
}

export function query(params) {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return q ? '?' + q : '';
}

// GET /api/stream: one EventSource for the page, shared by every view that listens.
const listeners = new Set();
let source = null;
export function subscribe(fn) {
  listeners.add(fn);
  if (!source) open();
  return () => {
    listeners.delete(fn);
    // Closed a moment later, so a view that re-subscribes keeps the same stream.
    setTimeout(() => {
      if (!listeners.size && source) {
        source.close();
        source = null;
      }
    }, 1000);
  };
}
function open() {
  source = new EventSource('/api/stream');
  const mine = source;
  // A refused stream (429/503) is not retried by EventSource itself: try again a bit later.
  source.onerror = () => {
    if (mine.readyState === EventSource.CLOSED)
      setTimeout(() => {
        if (source === mine && listeners.size) open();
      }, 3000);
  };
  for (const type of ['campaign', 'message', 'device'])
    source.addEventListener(type, (e) => {
      const data = JSON.parse(e.data);
      for (const l of listeners) l(type, data);
    });
}
export function closeStream() {
  if (source) source.close();
  source = null;
}
