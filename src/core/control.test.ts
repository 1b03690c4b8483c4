import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeControl, encodeControl } from "./control.js";

describe("control messages", () => {
  it("round-trip with byte fields", () => {
    const message = {
      type: "subscribe" as const,
      from: "node-1",
      user: "alice",
      channel: "room:1",
      options: { data: new Uint8Array([123, 125]), expireAt: 5, recoverSince: { offset: 3, epoch: "e" } },
    };
    assert.deepEqual(decodeControl(encodeControl(message)), message);
  });

  it("carries a Buffer's bytes as bytes, not as its toJSON object", () => {
    const data = Buffer.from([0x01, 0x02, 0xff]).subarray(1);
    const message = { type: "emulation" as const, from: "node-1", to: "node-2", session: "s", data };
    const decoded = decodeControl(encodeControl(message));
    assert.deepEqual(decoded, { ...message, data: new Uint8Array([0x02, 0xff]) });
  });

  it("refuses what is not a Turbine control message", () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    assert.throws(() => decodeControl(new Uint8Array([0x0a, 0x01, 0xff])));
    assert.throws(() => decodeControl(bytes("[]")));
    assert.throws(() => decodeControl(bytes('{"type":"shutdown"}')));
    assert.throws(() => decodeControl(bytes('{"type":"node","from":"x","node":{}}')));
  });

  it("carries a node's metrics snapshot, and refuses a malformed one", () => {
    const node = {
      uid: "x",
      name: "n",
      version: "v",
      numClients: 0,
      numUsers: 0,
      numChannels: 0,
      numSubs: 0,
    };
    const announcement = {
      ...node,
      uptime: 1,
      channels: [],
      metrics: { interval: 60, items: { "a.b": 1.5 } },
    };
    const message = { type: "node" as const, from: "x", node: announcement };
    assert.deepEqual(decodeControl(encodeControl(message)), message);
    for (const metrics of ['"x"', "null", '{"interval":60}', '{"interval":60,"items":{"a":"1"}}']) {
      const text = `{"type":"node","from":"x","node":{"channels":[],"metrics":${metrics}}}`;
      assert.throws(() => decodeControl(new TextEncoder().encode(text)), /malformed metrics/, metrics);
    }
  });
});
