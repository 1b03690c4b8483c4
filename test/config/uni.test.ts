import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { assertProblem, problemsOf } from "./helpers.js";

test("connect code mappings need their codes, and ASCII disconnect reasons", () => {
  const problems = problemsOf({
    values: {
      client: {
        connect_code_to_unidirectional_disconnect: {
          enabled: true,
          transforms: [{ code: 0, to: { code: 0, reason: "déconnecté" } }],
        },
      },
      uni_sse: { connect_code_to_http_response: { transforms: [{ code: 3500, to: { status_code: 0 } }] } },
      uni_http_stream: {
        connect_code_to_http_response: { transforms: [{ code: 0, to: { status_code: 401 } }] },
      },
    },
  });
  const uni = "client.connect_code_to_unidirectional_disconnect.transforms[0]";
  assertProblem(problems, `${uni}.code`, "must be set");
  assertProblem(problems, `${uni}.to.code`, "must be set");
  assertProblem(problems, `${uni}.to.reason`, "must be ASCII");
  assertProblem(
    problems,
    "uni_sse.connect_code_to_http_response.transforms[0].to.status_code",
    "must be set",
  );
  assertProblem(problems, "uni_http_stream.connect_code_to_http_response.transforms[0].code", "must be set");
});

test("the unidirectional sections load without warnings, from env too", () => {
  const { config, warnings } = loadConfig({
    file: "",
    env: {
      CENTRIFUGO_UNI_GRPC_ENABLED: "true",
      CENTRIFUGO_UNI_SSE_CONNECT_CODE_TO_HTTP_RESPONSE_TRANSFORMS: '[{"code":3500,"to":{"status_code":401}}]',
    },
    values: {
      uni_websocket: { enabled: true, join_push_messages: true },
      uni_http_stream: { enabled: true },
    },
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.uni_grpc.enabled, true);
  assert.equal(config.uni_grpc.port, 11000);
  assert.deepEqual(config.uni_sse.connect_code_to_http_response.transforms, [
    { code: 3500, to: { status_code: 401, body: "" } },
  ]);
});
