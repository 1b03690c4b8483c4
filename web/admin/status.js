// Status: every node's counters from the `info` API method, polled every 2 s, with a short history.
/* global setInterval, clearInterval -- browser globals */
import { useEffect, useState } from "preact/hooks";
import { callApi, duration, html } from "./lib.js";

const POLL_MS = 2000;
const HISTORY = 60;

export function StatusPage() {
  const [nodes, setNodes] = useState([]);
  const [history, setHistory] = useState([]);
  const [error, setError] = useState("");
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const reply = await callApi("info");
        if (stopped) return;
        if (reply.error) throw new Error(`${reply.error.code} ${reply.error.message}`);
        const list = reply.result.nodes ?? [];
        setNodes(list);
        setError("");
        const total = sum(list, "num_clients");
        setHistory((past) => [...past.slice(1 - HISTORY), total]);
      } catch (err) {
        if (!stopped) setError(err.message);
      }
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  const counters = [
    ["Nodes", nodes.length],
    ["Clients", sum(nodes, "num_clients")],
    ["Users", sum(nodes, "num_users")],
    ["Channels", sum(nodes, "num_channels")],
    ["Subscriptions", sum(nodes, "num_subs")],
  ];
  return html`
    ${error && html`<p class="reply error">${error}</p>`}
    <section class="counters">
      ${counters.map(
        ([label, value]) =>
          html`<div class="card counter">
            <span>${label}</span><strong data-testid=${label}>${value}</strong>
          </div>`,
      )}
    </section>
    <section class="card">
      <h2>Clients, last ${(HISTORY * POLL_MS) / 1000} s</h2>
      <${Sparkline} values=${history} />
    </section>
    <section class="card">
      <h2>Nodes</h2>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Version</th>
            <th>Uptime</th>
            <th class="num">Clients</th>
            <th class="num">Users</th>
            <th class="num">Channels</th>
            <th class="num">Subs</th>
          </tr>
        </thead>
        <tbody>
          ${nodes.map(
            (node) =>
              html`<tr>
                <td title=${node.uid}>${node.name}</td>
                <td>${node.version}</td>
                <td>${duration(node.uptime ?? 0)}</td>
                <td class="num">${node.num_clients ?? 0}</td>
                <td class="num">${node.num_users ?? 0}</td>
                <td class="num">${node.num_channels ?? 0}</td>
                <td class="num">${node.num_subs ?? 0}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </section>
    ${nodes.some((node) => node.metrics) && html`<${Metrics} nodes=${nodes} />`}
  `;
}

/** `nodes[].metrics.items` when the server aggregates them (node.info_metrics_aggregate_interval). */
function Metrics({ nodes }) {
  return html`<section class="card">
    <h2>Metrics</h2>
    ${nodes
      .filter((node) => node.metrics)
      .map(
        (node) =>
          html`<details>
            <summary>${node.name} (every ${node.metrics.interval} s)</summary>
            <table>
              ${Object.entries(node.metrics.items ?? {}).map(
                ([name, value]) =>
                  html`<tr>
                    <td class="mono">${name}</td>
                    <td class="num">${value}</td>
                  </tr>`,
              )}
            </table>
          </details>`,
      )}
  </section>`;
}

function Sparkline({ values }) {
  if (values.length < 2) return html`<div class="spark empty">collecting…</div>`;
  const max = Math.max(1, ...values);
  const step = 600 / (HISTORY - 1);
  const offset = (HISTORY - values.length) * step;
  const points = values.map(
    (v, i) => `${(offset + i * step).toFixed(1)},${(58 - (v / max) * 54).toFixed(1)}`,
  );
  return html`<svg
    class="spark"
    viewBox="0 0 600 60"
    preserveAspectRatio="none"
    role="img"
    aria-label="clients over time"
  >
    <polyline points=${points.join(" ")} />
    <text x="596" y="12" text-anchor="end">peak ${Math.max(...values)}</text>
  </svg>`;
}

function sum(nodes, key) {
  return nodes.reduce((total, node) => total + (node[key] ?? 0), 0);
}
