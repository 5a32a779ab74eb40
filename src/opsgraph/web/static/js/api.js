// HTTP client for the opsgraph API and the live connection (WebSocket with automatic
// reconnect, plus HTTP polling while the socket is down).

/** An HTTP error with the API's own message ("detail") and, when it names one, the field. */
export class ApiError extends Error {
  constructor(status, message, fields = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fields = fields;
  }
}

/** Turn a FastAPI error body into a readable message and the list of fields it names. */
export function describeError(status, body) {
  const detail = body && typeof body === "object" ? body.detail : undefined;
  // opsgraph's own shape: {"detail": "summary", "errors": [{"field": "body.node", "message"}]}
  const named = Array.isArray(body?.errors)
    ? body.errors.map((e) => String(e?.field || "").split(".").pop()).filter(Boolean)
    : [];
  if (typeof detail === "string" && detail) {
    return { message: detail, fields: named };
  }
  if (Array.isArray(detail) && detail.length) {
    const fields = [];
    const parts = detail.map((entry) => {
      if (!entry || typeof entry !== "object") return String(entry);
      const loc = Array.isArray(entry.loc) ? entry.loc.filter((p) => p !== "body") : [];
      const field = loc.join(".");
      if (field) fields.push(String(loc[loc.length - 1]));
      const msg = entry.msg || "invalid value";
      return field ? `${field}: ${msg}` : msg;
    });
    return { message: parts.join("; "), fields };
  }
  if (detail && typeof detail === "object") {
    return { message: detail.message || JSON.stringify(detail), fields: [] };
  }
  return { message: `Request failed (HTTP ${status})`, fields: [] };
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

let refreshing = null;

/** Renew the access cookie from the refresh cookie (once for all callers at a time). */
function refreshSession() {
  refreshing ??= fetch("./auth/refresh", { method: "POST", headers: { Accept: "application/json" } })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

function toLogin() {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`./login.html?next=${encodeURIComponent(here)}`);
}

async function request(method, path, options = {}, retried = false) {
  const { params, body, signal } = options;
  // Paths are relative so the page works when the API is mounted under a prefix.
  const url = `.${path}${query(params)}`;
  const init = { method, headers: { Accept: "application/json" }, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "The server cannot be reached.");
  }
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { detail: text.slice(0, 200) };
    }
  }
  if (response.status === 401) {
    // The access cookie expired: renew it once, else the session is over.
    if (!retried && (await refreshSession())) return request(method, path, options, true);
    toLogin();
  }
  if (!response.ok) {
    const { message, fields } = describeError(response.status, payload);
    throw new ApiError(response.status, message, fields);
  }
  return payload;
}

/**
 * An explanation with its progress: `onStage({stage, detail, elapsed_s})` hears each stage
 * (reading, ranking, attributing) as the server starts it; resolves to the result.
 */
async function explainWithProgress(anomalyId, onStage, options = {}, retried = false) {
  const url = `./anomalies/${encodeURIComponent(anomalyId)}/explain/progress`;
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/x-ndjson" }, signal: options.signal });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "The server cannot be reached.");
  }
  if (response.status === 401) {
    if (!retried && (await refreshSession())) return explainWithProgress(anomalyId, onStage, options, true);
    toLogin();
  }
  if (!response.ok || !response.body) {
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    const { message, fields } = describeError(response.status, payload);
    throw new ApiError(response.status, message, fields);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffered += value;
    let cut;
    while ((cut = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, cut).trim();
      buffered = buffered.slice(cut + 1);
      if (!line) continue;
      const item = JSON.parse(line);
      if (item.stage === "done") return item.result;
      if (item.stage === "error") throw new ApiError(item.status || 500, item.detail || "explanation failed");
      onStage(item);
    }
    if (done) throw new ApiError(0, "The explanation stopped before it finished.");
  }
}

export const api = {
  /** Any API call: api.call("PATCH", "/incidents/3", {body: {...}}) */
  call: (method, path, opts) => request(method, path, opts),
  me: (opts) => request("GET", "/auth/me", opts),
  health: (opts) => request("GET", "/health", opts),
  graph: (opts) => request("GET", "/graph", opts),
  /** params: {limit, offset, severity: [..], resource_id, status, start, end} */
  anomalies: (params, opts = {}) => request("GET", "/anomalies", { ...opts, params }),
  metrics: (resourceId, params, opts = {}) =>
    request("GET", `/resources/${encodeURIComponent(resourceId)}/metrics`, { ...opts, params }),
  explain: (anomalyId, opts = {}) =>
    request("GET", `/anomalies/${encodeURIComponent(anomalyId)}/explain`, opts),
  /** The same, with `onStage` told each stage as it starts. */
  explainWithProgress: (anomalyId, onStage, opts = {}) => explainWithProgress(anomalyId, onStage, opts),
  faults: (opts) => request("GET", "/sim/faults", opts),
  injectFault: (body, opts = {}) => request("POST", "/sim/faults", { ...opts, body }),
};

/**
 * The live feed. Emits, through the callbacks given:
 *   onMessage({type, data})  for every server message (and for synthetic "poll" snapshots),
 *   onState(state)           "connecting" | "live" | "reconnecting" | "polling",
 *   onResync()               when the socket comes back after a gap (the caller refetches).
 * While the socket is down it keeps retrying with capped exponential backoff and calls `poll`
 * every `pollIntervalMs`; the state is "polling" while polls succeed, "reconnecting" otherwise.
 */
export class LiveConnection {
  constructor({ onMessage, onState, onResync, poll, pollIntervalMs = 4000, path = "ws" }) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.onResync = onResync;
    this.poll = poll;
    this.pollIntervalMs = pollIntervalMs;
    this.path = path;
    this.state = "connecting";
    this.socket = null;
    this.attempts = 0;
    this.everOpened = false;
    this.downSince = null;
    this.reconnectTimer = null;
    this.pollTimer = null;
    this.polling = false;
    this.stopped = false;
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const base = location.pathname.replace(/[^/]*$/, "");
    return `${proto}//${location.host}${base}${this.path}`;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopPolling();
    if (this.socket) this.socket.close(1000, "page closed");
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState?.(state);
  }

  connect() {
    if (this.stopped) return;
    let socket;
    try {
      socket = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      const wasDown = this.downSince !== null;
      this.attempts = 0;
      this.downSince = null;
      this.everOpened = true;
      this.stopPolling();
      this.setState("live");
      if (wasDown) this.onResync?.();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not ours; ignore rather than break the feed
      }
      if (message && typeof message.type === "string") this.onMessage?.(message);
    });
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.socket = null;
      if (this.stopped) return;
      if (this.downSince === null) this.downSince = Date.now();
      this.startPolling();
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    if (this.state !== "polling") this.setState("reconnecting");
    const base = Math.min(15000, 500 * 2 ** this.attempts);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempts += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  startPolling() {
    if (this.pollTimer !== null || !this.poll) return;
    const tick = async () => {
      if (this.polling) return;
      this.polling = true;
      try {
        await this.poll();
        if (this.state !== "live") this.setState("polling");
      } catch {
        if (this.state !== "live") this.setState("reconnecting");
      } finally {
        this.polling = false;
      }
    };
    this.pollTimer = setInterval(tick, this.pollIntervalMs);
    // First poll soon, but give a quick reconnect the chance to win.
    setTimeout(() => {
      if (this.pollTimer !== null) tick();
    }, 800);
  }

  stopPolling() {
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
