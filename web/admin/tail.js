// Live tail: the server's stream of a channel (admin/tail), read line by line as it arrives.
/* global AbortController, TextDecoderStream -- browser globals */
import { useEffect, useRef, useState } from "preact/hooks";
import { adminFetch, html, pretty } from "./lib.js";

const KEEP = 500;

export function TailPage() {
  const [channel, setChannel] = useState("");
  const [tailing, setTailing] = useState("");
  const [events, setEvents] = useState([]);
  const [state, setState] = useState("idle");
  const stop = useRef(undefined);

  useEffect(() => () => stop.current?.(), []);

  const start = (event) => {
    event.preventDefault();
    stop.current?.();
    if (channel === "") return;
    setEvents([]);
    setTailing(channel);
    stop.current = follow(channel, {
      state: setState,
      event: (item) => setEvents((current) => [item, ...current].slice(0, KEEP)),
    });
  };
  const halt = () => {
    stop.current?.();
    stop.current = undefined;
    setState("stopped");
  };

  return html`
    <form class="card row" onSubmit=${start}>
      <label class="grow"
        >Channel
        <input
          name="channel"
          value=${channel}
          placeholder="e.g. chat:index"
          onInput=${(e) => setChannel(e.target.value)}
        />
      </label>
      <button type="submit" name="tail">Tail</button>
      <button type="button" name="stop" class="secondary" onClick=${halt} disabled=${state !== "live"}>
        Stop
      </button>
    </form>
    <p class="status-line">
      <span class="dot ${state}"></span> ${state}${tailing && html` · <span class="mono">${tailing}</span>`}
      ${" · "}${events.length} event${events.length === 1 ? "" : "s"}
    </p>
    <ol class="events" data-testid="events">
      ${events.map((item) => html`<${TailEvent} key=${item.seq} item=${item} />`)}
    </ol>
  `;
}

function TailEvent({ item }) {
  return html`<li class="event ${item.kind}">
    <div class="meta">
      <span class="badge">${item.kind}</span>
      <time>${item.time.toLocaleTimeString()}</time>
      ${item.offset !== undefined && html`<span class="mono">offset ${item.offset}</span>`}
      ${item.who && html`<span class="mono">${item.who}</span>`}
    </div>
    ${!isEmpty(item.body) && html`<pre class="mono">${compact(item.body)}</pre>`}
  </li>`;
}

/** One line when it fits, indented otherwise. */
function compact(body) {
  const line = JSON.stringify(body);
  return line.length <= 100 ? line : pretty(body);
}

function isEmpty(body) {
  return typeof body === "object" && body !== null && Object.keys(body).length === 0;
}

let seq = 0;

/** Read the tail stream; returns a function that stops it. */
function follow(channel, on) {
  const abort = new AbortController();
  on.state("connecting");
  (async () => {
    const response = await adminFetch(`tail?channel=${encodeURIComponent(channel)}`, {
      signal: abort.signal,
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    on.state("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      const lines = buffered.split("\n");
      buffered = lines.pop();
      for (const line of lines) if (line.trim() !== "") shown(JSON.parse(line), on);
    }
    on.state("ended");
  })().catch((err) => {
    if (abort.signal.aborted) return;
    on.state("failed");
    on.event({ seq: ++seq, kind: "error", time: new Date(), body: err.message });
  });
  return () => abort.abort();
}

const CONNECT_HINT =
  "the tail connects as a client: it needs client.token.hmac_secret_key, or anonymous connections allowed";

/** One line of the stream as the list shows it; the connect reply is not shown. */
function shown(message, on) {
  const item = (kind, body, extra = {}) => on.event({ seq: ++seq, kind, time: new Date(), body, ...extra });
  const push = message.push;
  if (message.error) item("error", message.error);
  else if (message.disconnect) {
    const { code } = message.disconnect;
    const refused = code === 3500 || code === 3501;
    item("disconnect", refused ? { ...message.disconnect, hint: CONNECT_HINT } : message.disconnect);
  } else if (push?.pub) {
    const { data, offset, info, tags } = push.pub;
    item("publication", data, { offset, who: info?.user && `from ${info.user}`, tags });
  } else if (push?.join) item("join", push.join.info, { who: push.join.info.user });
  else if (push?.leave) item("leave", push.leave.info, { who: push.leave.info.user });
  else if (push?.subscribe) item("subscribed", push.subscribe);
  else if (push?.unsubscribe) item("unsubscribed", push.unsubscribe);
  else if (push) item("push", push);
}
