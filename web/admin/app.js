// The admin UI's shell: asks /admin/init whether a login is needed, then shows the page the hash names.
/* global location, addEventListener, removeEventListener, FormData, fetch, document -- browser globals */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ActionsPage } from "./actions.js";
import { adminFetch, html, session } from "./lib.js";
import { RpcPage } from "./rpc.js";
import { StatusPage } from "./status.js";
import { TailPage } from "./tail.js";

const PAGES = [
  { path: "status", title: "Status", Page: StatusPage },
  { path: "actions", title: "Actions", Page: ActionsPage },
  { path: "tail", title: "Live tail", Page: TailPage },
  { path: "rpc", title: "RPC playground", Page: RpcPage },
];

function useHashRoute() {
  const read = () => location.hash.replace(/^#\/?/, "").split("/");
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

function App() {
  const [init, setInit] = useState(undefined);
  const load = () =>
    adminFetch("init")
      .then((response) => response.json())
      .then(setInit)
      .catch(() => setInit({ authenticated: false, insecure: false }));
  useEffect(() => {
    session.onUnauthorized = () => setInit((current) => ({ ...current, authenticated: false }));
    load();
  }, []);
  if (init === undefined) return html`<div class="splash">Loading…</div>`;
  if (!init.authenticated) return html`<${Login} onLogin=${load} />`;
  return html`<${Shell} insecure=${init.insecure} onLogout=${load} />`;
}

function Login({ onLogin }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    const form = new FormData();
    form.set("password", password);
    try {
      const response = await fetch("admin/auth", { method: "POST", body: form });
      if (response.ok) {
        session.token = (await response.json()).token;
        onLogin();
        return;
      }
      if (response.status === 429) {
        const wait = response.headers.get("Retry-After");
        setError(`Too many attempts: try again in ${wait} s.`);
      } else setError("Wrong password.");
    } catch (err) {
      setError(`Cannot reach the server: ${err.message}`);
    }
    setBusy(false);
  };
  return html`<main class="login">
    <form onSubmit=${submit} class="card">
      <h1><span class="logo">◎</span> Turbine</h1>
      <input type="text" name="username" value="admin" autocomplete="username" hidden />
      <label
        >Admin password
        <input
          type="password"
          name="password"
          autofocus
          autocomplete="current-password"
          value=${password}
          onInput=${(e) => setPassword(e.target.value)}
        />
      </label>
      ${error && html`<p class="reply error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy}>Log in</button>
    </form>
  </main>`;
}

function Shell({ insecure, onLogout }) {
  const [path, ...rest] = useHashRoute();
  const current = PAGES.find((page) => page.path === path) ?? PAGES[0];
  const logout = () => {
    session.token = "";
    onLogout();
  };
  return html`<div class="shell">
    <nav>
      <div class="brand"><span class="logo">◎</span> Turbine</div>
      ${PAGES.map(
        (page) => html`<a href="#/${page.path}" class=${page === current ? "active" : ""}>${page.title}</a>`,
      )}
      <div class="grow"></div>
      ${
        insecure
          ? html`<div class="note">insecure mode</div>`
          : html`<button class="link" onClick=${logout}>Log out</button>`
      }
    </nav>
    <main>
      <h1>${current.title}</h1>
      <${current.Page} args=${rest} />
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
