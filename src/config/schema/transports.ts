/** Client transports: WebSocket, SSE, HTTP streaming, WebTransport and their unidirectional variants. */
import { bool, dur, int, list, obj, str } from "../spec.js";
import { tls, v5 } from "./shared.js";

/** WebSocket tuning shared by the bidirectional and unidirectional endpoints; `legacy` is the v5 key prefix. */
function websocketFields(legacy: string) {
  const p = (key: string) => v5(`${legacy}_${key}`);
  return {
    compression: bool(false, "permessage-deflate compression.", p("compression")),
    compression_min_size: int(0, "Smallest message compressed, in bytes.", p("compression_min_size")),
    compression_level: int(1, "Compression level (1-9).", p("compression_level")),
    read_buffer_size: int(0, "Read buffer size, in bytes.", p("read_buffer_size")),
    use_write_buffer_pool: bool(
      false,
      "Share write buffers between connections.",
      p("use_write_buffer_pool"),
    ),
    write_buffer_size: int(0, "Write buffer size, in bytes.", p("write_buffer_size")),
    write_timeout: dur("1000ms", "Timeout of one write.", p("write_timeout")),
    message_size_limit: int(65536, "Largest accepted message, in bytes.", p("message_size_limit")),
    decompressed_message_size_limit: int(0, "Largest message after decompression (0 = message_size_limit)."),
  };
}

/** `connect_code_to_http_response` of uni SSE and uni HTTP streaming. */
function connectCodeToHttpResponse() {
  return obj("Maps connect error codes to HTTP responses.", {
    enabled: bool(false, "Turns the mapping on."),
    transforms: list("Error code → HTTP response pairs.", {
      code: int(0, "Connect error code."),
      to: obj("HTTP response to send.", {
        status_code: int(0, "HTTP status."),
        body: str("", "Response body."),
      }),
    }),
  });
}

/** A unidirectional HTTP transport (uni_sse, uni_http_stream). */
function uniHttp(name: string, what: string) {
  return obj(`The ${what}.`, {
    enabled: bool(false, `Enables the ${what}.`, { ...v5(name), flag: true }),
    handler_prefix: str(`/connection/${name}`, "URL path of the endpoint.", v5(`${name}_handler_prefix`)),
    max_request_body_size: int(
      65536,
      "Largest connect request body, in bytes.",
      v5(`${name}_max_request_body_size`),
    ),
    connect_code_to_http_response: connectCodeToHttpResponse(),
  });
}

/** A bidirectional emulation transport (sse, http_stream). */
function emulated(name: string, what: string) {
  return obj(`The ${what} (through the emulation endpoint).`, {
    enabled: bool(false, `Enables the ${what}.`, { ...v5(name), flag: true }),
    handler_prefix: str(`/connection/${name}`, "URL path of the endpoint.", v5(`${name}_handler_prefix`)),
    max_request_body_size: int(65536, "Largest request body, in bytes.", v5(`${name}_max_request_body_size`)),
  });
}

export const websocket = obj("Bidirectional WebSocket transport (on by default).", {
  disabled: bool(false, "Turns the WebSocket endpoint off.", v5("websocket_disable")),
  handler_prefix: str("/connection/websocket", "URL path of the endpoint.", v5("websocket_handler_prefix")),
  ...websocketFields("websocket"),
});

export const sse = emulated("sse", "bidirectional SSE transport");
export const httpStream = emulated("http_stream", "bidirectional HTTP streaming transport");

export const webtransport = obj("WebTransport over HTTP/3 (experimental).", {
  enabled: bool(false, "Enables the WebTransport transport.", v5("webtransport")),
  handler_prefix: str(
    "/connection/webtransport",
    "URL path of the endpoint.",
    v5("webtransport_handler_prefix"),
  ),
  message_size_limit: int(65536, "Largest accepted message, in bytes."),
});

export const uniWebsocket = obj("Unidirectional WebSocket transport.", {
  enabled: bool(false, "Enables the unidirectional WebSocket transport.", {
    ...v5("uni_websocket"),
    flag: true,
  }),
  handler_prefix: str(
    "/connection/uni_websocket",
    "URL path of the endpoint.",
    v5("uni_websocket_handler_prefix"),
  ),
  ...websocketFields("uni_websocket"),
  disable_closing_handshake: bool(false, "Close without a WebSocket closing handshake."),
  disable_disconnect_push: bool(false, "Do not push a disconnect before closing."),
  join_push_messages: bool(false, "Join several pushes into one frame."),
});

export const uniSse = uniHttp("uni_sse", "unidirectional SSE (EventSource) transport");
export const uniHttpStream = uniHttp("uni_http_stream", "unidirectional HTTP streaming transport");

export const uniGrpc = obj("Unidirectional GRPC transport.", {
  enabled: bool(false, "Enables the unidirectional GRPC transport.", { ...v5("uni_grpc"), flag: true }),
  address: str("", "Interface to listen on.", v5("uni_grpc_address")),
  port: int(11000, "Port to listen on.", { ...v5("uni_grpc_port"), flag: true }),
  max_receive_message_size: int(
    0,
    "Largest accepted message (0 = GRPC default).",
    v5("uni_grpc_max_receive_message_size"),
  ),
  tls: tls("TLS of the uni GRPC server.", "uni_grpc_tls"),
});

export const emulation = obj("Emulation endpoint used by bidirectional SSE and HTTP streaming.", {
  handler_prefix: str("/emulation", "URL path of the endpoint.", v5("emulation_handler_prefix")),
  max_request_body_size: int(65536, "Largest request body, in bytes.", v5("emulation_max_request_body_size")),
});
