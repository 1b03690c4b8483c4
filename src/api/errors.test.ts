import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { API_ERRORS, apiErrorByCode, GrpcStatus, grpcStatusForCode, httpStatusForCode } from "./errors.js";

describe("API errors", () => {
  it("map to HTTP and GRPC statuses as in Centrifugo's transport error mode", () => {
    const rows = API_ERRORS.map(({ error }) => [
      error.code,
      error.message,
      httpStatusForCode(error.code),
      grpcStatusForCode(error.code),
    ]);
    assert.deepEqual(rows, [
      [100, "internal server error", 500, GrpcStatus.Internal],
      [102, "unknown channel", 404, GrpcStatus.NotFound],
      [104, "not found", 404, GrpcStatus.NotFound],
      [107, "bad request", 400, GrpcStatus.InvalidArgument],
      [108, "not available", 400, GrpcStatus.InvalidArgument],
      [112, "unrecoverable position", 416, GrpcStatus.OutOfRange],
      [113, "conflict", 409, GrpcStatus.AlreadyExists],
    ]);
  });

  it("map codes outside the table to 500 / Internal", () => {
    assert.equal(httpStatusForCode(103), 500);
    assert.equal(grpcStatusForCode(1000), GrpcStatus.Internal);
    assert.equal(apiErrorByCode(103), undefined);
  });

  it("become wire Error messages", () => {
    const message = apiErrorByCode(104)?.toMessage();
    assert.deepEqual([message?.code, message?.message], [104, "not found"]);
  });
});
