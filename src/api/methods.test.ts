import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { CentrifugoApi, CommandSchema } from "./gen/api_pb.js";
import { API_METHODS, apiMethod, commandCall } from "./methods.js";

describe("API_METHODS", () => {
  it("matches the GRPC service one to one", () => {
    const service = CentrifugoApi.methods.map((m) => [m.name, m.input.typeName, m.output.typeName]);
    const table = API_METHODS.map((m) => [m.grpc, m.request.typeName, m.response.typeName]);
    assert.deepEqual([...table].sort(), [...service].sort());
  });

  it("names every batch method after its Command and Reply field", () => {
    const commandFields = CommandSchema.fields.map((f) => f.name);
    const batchable = API_METHODS.map((m) => m.name).filter((name) => name !== "batch");
    assert.deepEqual([...batchable].sort(), [...commandFields].sort());
  });

  it("looks methods up by their HTTP name", () => {
    assert.equal(apiMethod("presence_stats")?.grpc, "PresenceStats");
    assert.equal(apiMethod("batch")?.grpc, "Batch");
    assert.equal(apiMethod("connections"), undefined);
    assert.equal(apiMethod("PresenceStats"), undefined);
  });
});

describe("commandCall", () => {
  it("takes the first set method in upstream's order", () => {
    const call = commandCall(
      create(CommandSchema, { channels: {}, presence: { channel: "p" }, history: { channel: "h" } }),
    );
    assert.equal(call?.method.name, "history");
    assert.equal(call?.field, "history");
    assert.equal(commandCall(create(CommandSchema, { presenceStats: {} }))?.field, "presenceStats");
    assert.equal(commandCall(create(CommandSchema)), undefined);
  });
});
