// RPC playground: forms built from the typed RPC methods' JSON Schemas (admin/rpc/schema), calls through
// admin/rpc/call; validation errors (422) are shown next to the fields they name.
import { useEffect, useState } from "preact/hooks";
import { adminFetch, html, pretty, Reply } from "./lib.js";

export function RpcPage({ args }) {
  const [contract, setContract] = useState(undefined);
  const [error, setError] = useState("");
  useEffect(() => {
    adminFetch("rpc/schema")
      .then((response) => response.json())
      .then(setContract)
      .catch((err) => setError(err.message));
  }, []);
  if (error) return html`<p class="reply error">${error}</p>`;
  if (contract === undefined) return html`<p class="hint">Loading schemas…</p>`;
  if (contract.methods.length === 0) {
    return html`<div class="card">
      <p>No typed RPC methods are registered on this node.</p>
      <p class="hint">
        Point <code>rpc.handlers_module</code> at a module exporting an <code>RpcRegistry</code> of
        <code>defineRpc</code> methods; their params schemas become forms here.
      </p>
    </div>`;
  }
  const chosen =
    contract.methods.find((m) => m.name === decodeURIComponent(args[0] ?? "")) ?? contract.methods[0];
  return html`<div class="split">
    <ul class="menu">
      ${contract.methods.map(
        (m) =>
          html`<li>
            <a href="#/rpc/${encodeURIComponent(m.name)}" class=${m === chosen ? "active" : ""}>${m.name}</a>
          </li>`,
      )}
    </ul>
    <${MethodPlayground} key=${chosen.name} method=${chosen} defs=${chosen.params.$defs ?? {}} />
  </div>`;
}

function MethodPlayground({ method, defs }) {
  const [value, setValue] = useState(undefined);
  const [reply, setReply] = useState(undefined);
  const [busy, setBusy] = useState(false);
  // The root is always sent as an object when it is one, so an empty form still reaches the validator.
  const root = kindOf(resolved(method.params, defs)) === "object" ? (value ?? {}) : value;
  const params = toParams(method.params, root, defs);
  const issues = reply?.error?.code === 422 ? issuesOf(reply.error.message) : {};
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const response = await adminFetch("rpc/call", {
        method: "POST",
        body: JSON.stringify({ method: method.name, params }),
      });
      setReply(await response.json());
    } catch (err) {
      setReply(err);
    }
    setBusy(false);
  };
  return html`<form class="card form" onSubmit=${submit} novalidate data-method=${method.name}>
    <h2 class="mono">${method.name}</h2>
    ${method.description && html`<p class="hint">${method.description}</p>`}
    <${SchemaField}
      schema=${method.params}
      defs=${defs}
      path=${[]}
      value=${value}
      onChange=${setValue}
      issues=${issues}
      root
    />
    ${issues[""] && html`<p class="issue">${issues[""]}</p>`}
    <details>
      <summary>Request params</summary>
      <pre class="mono">${params === undefined ? "(none)" : pretty(params)}</pre>
    </details>
    <details>
      <summary>Result schema</summary>
      <pre class="mono">${pretty(method.result)}</pre>
    </details>
    <button type="submit" disabled=${busy}>Call ${method.name}</button>
    <${Reply} reply=${reply} />
  </form>`;
}

/** A schema with `$ref`s into `$defs` resolved, and `anyOf` with null reduced to its other branch. */
function resolved(schema, defs) {
  let current = schema ?? {};
  if (typeof current.$ref === "string") current = defs[current.$ref.split("/").pop()] ?? {};
  const branches = current.anyOf ?? current.oneOf;
  if (Array.isArray(branches)) {
    const others = branches.filter((branch) => branch.type !== "null");
    if (others.length === 1) return resolved(others[0], defs);
  }
  return current;
}

function kindOf(schema) {
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.type === "object" && schema.properties) return "object";
  if (["string", "number", "integer", "boolean"].includes(schema.type)) return schema.type;
  return "json";
}

function SchemaField({ schema: raw, defs, path, value, onChange, issues, root, required, name }) {
  const schema = resolved(raw, defs);
  const kind = kindOf(schema);
  const key = path.join(".");
  const issue = issues[key];
  if (kind === "object") {
    const fields = Object.entries(schema.properties).map(
      ([prop, sub]) =>
        html`<${SchemaField}
          key=${prop}
          schema=${sub}
          defs=${defs}
          path=${[...path, prop]}
          name=${prop}
          required=${(schema.required ?? []).includes(prop)}
          value=${value?.[prop]}
          issues=${issues}
          onChange=${(next) => onChange({ ...(value ?? {}), [prop]: next })}
        />`,
    );
    if (root) return html`<div class="fields">${fields}</div>`;
    return html`<fieldset>
      <legend>${name}</legend>
      ${fields}${issue && html`<p class="issue">${issue}</p>`}
    </fieldset>`;
  }
  const label = html`<span
    >${name ?? "params"}${required && html`<b class="req">*</b>`}
    <small>${describe(schema, kind)}</small></span
  >`;
  const common = {
    name: key || "params",
    "aria-invalid": issue ? "true" : undefined,
    onInput: (e) => onChange(e.target.value),
  };
  let input;
  if (kind === "boolean") {
    return html`<label class="check ${issue ? "invalid" : ""}">
      <input
        type="checkbox"
        name=${common.name}
        checked=${value === true}
        onChange=${(e) => onChange(e.target.checked)}
      />${label} ${issue && html`<p class="issue">${issue}</p>`}
    </label>`;
  } else if (kind === "enum") {
    input = html`<select ...${common} onChange=${common.onInput} value=${value ?? ""}>
      <option value="">—</option>
      ${schema.enum.map((option) => html`<option value=${String(option)}>${String(option)}</option>`)}
    </select>`;
  } else if (kind === "json") {
    input = html`<textarea
      ...${common}
      rows="3"
      class="mono"
      placeholder="JSON"
      value=${value ?? ""}
    ></textarea>`;
  } else {
    const numeric = kind === "number" || kind === "integer";
    input = html`<input
      ...${common}
      type=${numeric ? "number" : "text"}
      step=${kind === "integer" ? "1" : "any"}
      value=${value ?? ""}
    />`;
  }
  return html`<label class=${issue ? "invalid" : ""}
    >${label}${input}${issue && html`<p class="issue">${issue}</p>`}</label
  >`;
}

/** A short description of a field's constraints: "integer ≥ 1", "string, 1–20 chars". */
function describe(schema, kind) {
  const parts = [kind === "enum" ? "enum" : kind];
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`< ${schema.exclusiveMaximum}`);
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    parts.push(`${schema.minLength ?? 0}–${schema.maxLength ?? "∞"} chars`);
  }
  if (schema.format) parts.push(schema.format);
  if (schema.description) parts.push(`· ${schema.description}`);
  return parts.join(" ");
}

/** The params to send: numbers parsed (what does not parse is sent as typed, for the server to judge). */
function toParams(raw, value, defs) {
  const schema = resolved(raw, defs);
  const kind = kindOf(schema);
  if (value === undefined || value === "") return undefined;
  if (kind === "object") {
    const out = {};
    for (const [prop, sub] of Object.entries(schema.properties)) {
      const converted = toParams(sub, value[prop], defs);
      if (converted !== undefined) out[prop] = converted;
    }
    return out;
  }
  if (kind === "number" || kind === "integer") {
    const number = Number(value);
    return Number.isFinite(number) ? number : value;
  }
  if (kind === "enum") return schema.enum.find((option) => String(option) === value) ?? value;
  if (kind === "json") {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** "invalid params: a.b: message; c: other" → {"a.b": "message", c: "other"}; no path → "". */
function issuesOf(message) {
  const issues = {};
  for (const part of message.replace(/^invalid params: /, "").split("; ")) {
    const match = /^([\w.]+): (.*)$/.exec(part);
    if (match) issues[match[1]] = match[2];
    else issues[""] = issues[""] ? `${issues[""]}; ${part}` : part;
  }
  return issues;
}
