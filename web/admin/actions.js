// Actions: one form per server API method, sent through the admin API route; empty fields are left out.
import { useState } from "preact/hooks";
import { callApi, html, Reply } from "./lib.js";

const channel = { name: "channel", kind: "text", required: true };
const user = { name: "user", kind: "text" };
const target = [
  { name: "client", kind: "text", hint: "only this connection" },
  { name: "session", kind: "text", hint: "only this session" },
];
const publishing = [
  { name: "data", kind: "json", required: true, placeholder: '{"text": "hello"}' },
  { name: "skip_history", kind: "bool" },
  { name: "tags", kind: "json", placeholder: '{"key": "value"}' },
  { name: "idempotency_key", kind: "text" },
  { name: "delta", kind: "bool" },
];

/** The server API methods and their request fields (centrifugo internal/apiproto/api.proto). */
export const METHODS = [
  { method: "publish", fields: [channel, ...publishing] },
  { method: "broadcast", fields: [{ name: "channels", kind: "list", required: true }, ...publishing] },
  { method: "presence", fields: [channel] },
  { method: "presence_stats", fields: [channel] },
  {
    method: "history",
    fields: [
      channel,
      { name: "limit", kind: "number" },
      { name: "since", kind: "json", placeholder: '{"offset": 0, "epoch": ""}' },
      { name: "reverse", kind: "bool" },
    ],
  },
  { method: "history_remove", fields: [channel] },
  { method: "channels", fields: [{ name: "pattern", kind: "text", hint: "e.g. chat:*" }] },
  { method: "info", fields: [] },
  {
    method: "disconnect",
    fields: [
      { ...user, required: true },
      ...target,
      { name: "whitelist", kind: "list", hint: "client IDs to keep" },
      { name: "disconnect", kind: "json", placeholder: '{"code": 4000, "reason": "bye"}' },
    ],
  },
  {
    method: "subscribe",
    fields: [{ ...user, required: true }, channel, ...target, { name: "data", kind: "json" }],
  },
  { method: "unsubscribe", fields: [{ ...user, required: true }, channel, ...target] },
  {
    method: "refresh",
    fields: [
      { ...user, required: true },
      ...target,
      { name: "expired", kind: "bool" },
      { name: "expire_at", kind: "number", hint: "Unix seconds" },
    ],
  },
  {
    method: "rpc",
    fields: [
      { name: "method", kind: "text", required: true },
      { name: "params", kind: "json" },
    ],
  },
];

export function ActionsPage({ args }) {
  const chosen = METHODS.find((m) => m.method === args[0]) ?? METHODS[0];
  return html`<div class="split">
    <ul class="menu" role="tablist">
      ${METHODS.map(
        (m) =>
          html`<li>
            <a href="#/actions/${m.method}" class=${m === chosen ? "active" : ""}>${m.method}</a>
          </li>`,
      )}
    </ul>
    <${MethodForm} key=${chosen.method} spec=${chosen} />
  </div>`;
}

function MethodForm({ spec }) {
  const [values, setValues] = useState({});
  const [reply, setReply] = useState(undefined);
  const [busy, setBusy] = useState(false);
  const set = (name, value) => setValues((current) => ({ ...current, [name]: value }));
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      setReply(await callApi(spec.method, paramsOf(spec.fields, values)));
    } catch (err) {
      setReply(err);
    }
    setBusy(false);
  };
  return html`<form class="card form" onSubmit=${submit} data-method=${spec.method}>
    <h2 class="mono">${spec.method}</h2>
    ${spec.fields.length === 0 && html`<p class="hint">No parameters.</p>`}
    ${spec.fields.map((field) => html`<${Field} field=${field} value=${values[field.name]} set=${set} />`)}
    <button type="submit" disabled=${busy}>Send ${spec.method}</button>
    <${Reply} reply=${reply} />
  </form>`;
}

function Field({ field, value, set }) {
  const label = html`<span
    >${field.name}${field.required && html`<b class="req">*</b>`}
    ${field.hint && html`<small>${field.hint}</small>`}</span
  >`;
  const onInput = (event) => set(field.name, event.target.value);
  if (field.kind === "bool") {
    return html`<label class="check">
      <input
        type="checkbox"
        name=${field.name}
        checked=${value === true}
        onChange=${(e) => set(field.name, e.target.checked)}
      />${label}
    </label>`;
  }
  if (field.kind === "json") {
    return html`<label
      >${label}
      <textarea
        name=${field.name}
        rows="3"
        class="mono"
        placeholder=${field.placeholder ?? "JSON"}
        value=${value ?? ""}
        onInput=${onInput}
      ></textarea>
    </label>`;
  }
  const type = field.kind === "number" ? "number" : "text";
  const placeholder = field.kind === "list" ? "comma separated" : "";
  return html`<label
    >${label}
    <input
      type=${type}
      name=${field.name}
      value=${value ?? ""}
      placeholder=${placeholder}
      onInput=${onInput}
    />
  </label>`;
}

/** The request params from the form; a JSON field that does not parse is an error shown to the user. */
function paramsOf(fields, values) {
  const params = {};
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined || value === "" || value === false) continue;
    if (field.kind === "json") {
      try {
        params[field.name] = JSON.parse(value);
      } catch {
        throw new Error(`${field.name}: not valid JSON`);
      }
    } else if (field.kind === "number") params[field.name] = Number(value);
    else if (field.kind === "list") {
      params[field.name] = value.split(/[\s,]+/).filter((item) => item !== "");
    } else params[field.name] = value;
  }
  return params;
}
