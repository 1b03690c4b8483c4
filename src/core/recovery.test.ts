import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HistoryResult, Publication } from "../engine/types.js";
import { cacheRecovery, isStreamRecovered, mergePublications } from "./recovery.js";

const pub = (offset: number): Publication => ({ offset, data: new Uint8Array([offset]), time: 0 });
const history = (offsets: number[], top: number, epoch = "e1"): HistoryResult => ({
  publications: offsets.map(pub),
  position: { offset: top, epoch },
});

describe("isStreamRecovered", () => {
  it("holds when history runs contiguously from since+1 to the top", () => {
    assert.equal(isStreamRecovered(history([4, 5, 6], 6), { offset: 3, epoch: "e1" }), true);
  });

  it("fails when history starts after since+1 (the client missed what history no longer holds)", () => {
    assert.equal(isStreamRecovered(history([5, 6], 6), { offset: 3, epoch: "e1" }), false);
  });

  it("fails when history stops short of the top (it was limited)", () => {
    assert.equal(isStreamRecovered(history([4, 5], 6), { offset: 3, epoch: "e1" }), false);
  });

  it("fails in another epoch, whatever the offsets", () => {
    assert.equal(isStreamRecovered(history([4], 4, "e2"), { offset: 3, epoch: "e1" }), false);
  });

  it("an empty epoch on the client's side matches any stream", () => {
    assert.equal(isStreamRecovered(history([4], 4, "e2"), { offset: 3, epoch: "" }), true);
  });

  it("with nothing missed, holds only when the client is at the top", () => {
    assert.equal(isStreamRecovered(history([], 3), { offset: 3, epoch: "e1" }), true);
    assert.equal(isStreamRecovered(history([], 5), { offset: 3, epoch: "e1" }), false);
  });
});

describe("cacheRecovery", () => {
  const top = { offset: 7, epoch: "e1" };

  it("sends the latest publication to a client behind it", () => {
    assert.deepEqual(cacheRecovery(pub(7), top, { offset: 2, epoch: "e1" }), {
      publications: [pub(7)],
      recovered: true,
    });
  });

  it("sends nothing to a client already at the latest publication", () => {
    assert.deepEqual(cacheRecovery(pub(7), top, { offset: 7, epoch: "e1" }), {
      publications: [],
      recovered: true,
    });
  });

  it("sends the latest publication again when the epoch changed", () => {
    assert.deepEqual(cacheRecovery(pub(7), top, { offset: 7, epoch: "e0" }).publications, [pub(7)]);
  });

  it("with no publication kept, recovers only a client at the top", () => {
    assert.deepEqual(cacheRecovery(undefined, top, { offset: 7, epoch: "e1" }), {
      publications: [],
      recovered: true,
    });
    assert.equal(cacheRecovery(undefined, top, { offset: 6, epoch: "e1" }).recovered, false);
  });
});

describe("mergePublications", () => {
  const offsets = (pubs: Publication[] | undefined) => pubs?.map((p) => p.offset);

  it("appends live publications after the recovered ones, dropping duplicates", () => {
    assert.deepEqual(offsets(mergePublications([pub(4), pub(5)], [pub(5), pub(6), pub(7)], 5)), [4, 5, 6, 7]);
  });

  it("drops live publications at or below the top history reported", () => {
    assert.deepEqual(offsets(mergePublications([], [pub(8), pub(9), pub(10)], 9)), [10]);
  });

  it("refuses a gap between the recovered top and the first live publication", () => {
    assert.equal(mergePublications([pub(4), pub(5)], [pub(7)], 5), undefined);
  });

  it("refuses a gap inside the live publications", () => {
    assert.equal(mergePublications([pub(1)], [pub(2), pub(4)], 1), undefined);
  });

  it("takes live publications as they come when the stream had no top (nothing saved yet)", () => {
    assert.deepEqual(offsets(mergePublications([], [pub(3), pub(4)], 0)), [3, 4]);
  });
});
