// Shared pieces of the admin UI: the `html` template tag, the admin backend calls, small widgets.
/* global localStorage, Headers, fetch -- browser globals */
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);

const TOKEN_KEY = "token";

/** The admin token, where Centrifugo's UI keeps it too. */
export const session = {
  get token() {
    return localStorage.getItem(TOKEN_KEY) ?? "";
  },
  set token(value) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  },
  /** Called when the backend answers 401: the app goes back to the login page. */
  onUnauthorized: () => {},
};

/** A request to the admin backend (paths relative to the page, as the UI may live under a prefix). */
export async function adminFetch(path, init = {}) {
  const headers = new Headers(init.headers);
  if (session.token) headers.set("Authorization", `token ${session.token}`);
  const response = await fetch(`admin/${path}`, { ...init, headers });
  if (response.status === 401) {
    session.token = "";
    session.onUnauthorized();
    throw new Error("not logged in");
  }
  return response;
}

/** A server API call through the admin API route: `{result}` or `{error: {code, message}}`. */
export async function callApi(method, params = {}) {
  const response = await adminFetch("api", { method: "POST", body: JSON.stringify({ method, params }) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const text = await response.text();
  return JSON.parse(text.split("\n")[0]);
}

/** Pretty JSON of any value. */
export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** Seconds as "3d 4h", "5m 2s". */
export function duration(seconds) {
  const units = [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ];
  const parts = [];
  let rest = Math.max(0, Math.floor(seconds));
  for (const [unit, size] of units) {
    if (rest >= size || (unit === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** A reply shown as a result or an error. */
export function Reply({ reply }) {
  if (reply === undefined) return null;
  if (reply instanceof Error) return html`<div class="reply error" role="alert">${reply.message}</div>`;
  if (reply.error) {
    return html`<div class="reply error" role="alert">
      <strong>Error ${reply.error.code}</strong> ${reply.error.message}
    </div>`;
  }
  return html`<div class="reply ok">
    <small>result</small>
    <pre data-testid="reply">${pretty(reply.result ?? {})}</pre>
  </div>`;
}
