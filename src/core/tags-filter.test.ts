import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { type FilterNode, FilterNodeSchema } from "../protocol/index.js";
import { compareDecimals, filterProblem, matchesFilter } from "./tags-filter.js";

type Init = { op?: string; key?: string; cmp?: string; val?: string; vals?: string[]; nodes?: Init[] };

function node(init: Init): FilterNode {
  return create(FilterNodeSchema, { ...init, nodes: (init.nodes ?? []).map(node) });
}

const tags = { kind: "goal", team: "reds", minute: "42", score: "2.50" };

describe("tags filter matching", () => {
  const cases: [string, Init, boolean][] = [
    ["eq", { key: "kind", cmp: "eq", val: "goal" }, true],
    ["eq on a missing tag", { key: "nope", cmp: "eq", val: "goal" }, false],
    ["neq on a missing tag", { key: "nope", cmp: "neq", val: "goal" }, true],
    ["in", { key: "team", cmp: "in", vals: ["blues", "reds"] }, true],
    ["nin", { key: "team", cmp: "nin", vals: ["blues"] }, true],
    ["ex", { key: "team", cmp: "ex" }, true],
    ["nex", { key: "team", cmp: "nex" }, false],
    ["sw", { key: "team", cmp: "sw", val: "re" }, true],
    ["ew", { key: "team", cmp: "ew", val: "ds" }, true],
    ["ct", { key: "team", cmp: "ct", val: "ed" }, true],
    ["gt", { key: "minute", cmp: "gt", val: "41.99" }, true],
    ["gte equal decimals", { key: "score", cmp: "gte", val: "2.5" }, true],
    ["lt", { key: "minute", cmp: "lt", val: "9" }, false],
    ["lte not a number", { key: "team", cmp: "lte", val: "9" }, false],
    [
      "and",
      {
        op: "and",
        nodes: [
          { key: "kind", cmp: "eq", val: "goal" },
          { key: "team", cmp: "eq", val: "reds" },
        ],
      },
      true,
    ],
    [
      "or",
      {
        op: "or",
        nodes: [
          { key: "kind", cmp: "eq", val: "card" },
          { key: "team", cmp: "ex" },
        ],
      },
      true,
    ],
    ["not", { op: "not", nodes: [{ key: "kind", cmp: "eq", val: "goal" }] }, false],
  ];
  for (const [name, filter, expected] of cases) {
    it(name, () => assert.equal(matchesFilter(node(filter), tags), expected));
  }
});

describe("tags filter validation (107 on subscribe)", () => {
  const cases: [string, Init][] = [
    ["leaf without cmp", { key: "a" }],
    ["eq without val", { key: "a", cmp: "eq" }],
    ["eq with vals", { key: "a", cmp: "eq", val: "x", vals: ["y"] }],
    ["in without vals", { key: "a", cmp: "in" }],
    ["ex with val", { key: "a", cmp: "ex", val: "x" }],
    ["unknown cmp", { key: "a", cmp: "like", val: "x" }],
    ["leaf without key", { cmp: "eq", val: "x" }],
    ["empty and", { op: "and" }],
    [
      "not with two children",
      {
        op: "not",
        nodes: [
          { key: "a", cmp: "ex" },
          { key: "b", cmp: "ex" },
        ],
      },
    ],
    ["unknown op", { op: "xor", nodes: [{ key: "a", cmp: "ex" }] }],
    [
      "bad child",
      {
        op: "or",
        nodes: [
          { key: "a", cmp: "ex" },
          { key: "b", cmp: "eq" },
        ],
      },
    ],
  ];
  for (const [name, filter] of cases) {
    it(name, () => assert.notEqual(filterProblem(node(filter)), undefined));
  }
  it("accepts a well-formed tree", () => {
    assert.equal(
      filterProblem(node({ op: "and", nodes: [{ key: "a", cmp: "in", vals: ["x"] }, { cmp: "ex" }] })),
      undefined,
    );
  });
});

describe("decimal comparison", () => {
  it("compares exactly, beyond float precision", () => {
    assert.equal(compareDecimals("9007199254740993", "9007199254740992"), 1);
    assert.equal(compareDecimals("-1.5", "-1.25"), -1);
    assert.equal(compareDecimals("0.0", "-0"), 0);
    assert.equal(compareDecimals("1e3", "1"), undefined);
  });
});
