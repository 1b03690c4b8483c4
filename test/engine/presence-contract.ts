import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { ClientInfo, PresenceManager } from "../../src/engine/types.js";
import { until } from "../helpers/wait.js";
import { decode, encode, sleep, uniqueChannel } from "./recording-handler.js";

/** Makes a fresh presence manager whose entries expire `ttlMs` after their last add. */
export type PresenceFactory = (options: { ttlMs: number }) => Promise<PresenceManager>;

const LONG_TTL_MS = 60_000;

function info(user: string, client: string, connInfo?: string): ClientInfo {
  return connInfo === undefined ? { user, client } : { user, client, connInfo: encode(connInfo) };
}

/** Comparable form of a presence map: engines may return bytes as any Uint8Array subclass. */
function plain(
  presence: Record<string, ClientInfo>,
): Record<string, { user: string; client: string; conn?: string }> {
  const out: Record<string, { user: string; client: string; conn?: string }> = {};
  for (const [clientId, value] of Object.entries(presence)) {
    const conn = decode(value.connInfo);
    out[clientId] =
      conn === undefined
        ? { user: value.user, client: value.client }
        : { user: value.user, client: value.client, conn };
  }
  return out;
}

/** The behaviour every `PresenceManager` must share; expiry cases use short real TTLs. */
export function runPresenceContract(name: string, makePresence: PresenceFactory): void {
  describe(`PresenceManager contract: ${name}`, () => {
    const opened: PresenceManager[] = [];

    async function open(ttlMs = LONG_TTL_MS): Promise<PresenceManager> {
      const manager = await makePresence({ ttlMs });
      opened.push(manager);
      return manager;
    }

    afterEach(async () => {
      await Promise.all(opened.splice(0).map((m) => m.close()));
    });

    it("reports nothing for an unknown channel", async () => {
      const presence = await open();
      const ch = uniqueChannel("none");
      assert.deepEqual(await presence.presence(ch), {});
      assert.deepEqual(await presence.presenceStats(ch), { numClients: 0, numUsers: 0 });
      await presence.removePresence(ch, "nobody", "nobody");
    });

    it("lists added clients with their info", async () => {
      const presence = await open();
      const ch = uniqueChannel("list");
      await presence.addPresence(ch, "c1", info("alice", "c1", '{"x":1}'));
      await presence.addPresence(ch, "c2", info("bob", "c2"));
      assert.deepEqual(plain(await presence.presence(ch)), {
        c1: { user: "alice", client: "c1", conn: '{"x":1}' },
        c2: { user: "bob", client: "c2" },
      });
    });

    it("counts clients and unique users", async () => {
      const presence = await open();
      const ch = uniqueChannel("stats");
      await presence.addPresence(ch, "c1", info("alice", "c1"));
      await presence.addPresence(ch, "c2", info("alice", "c2"));
      await presence.addPresence(ch, "c3", info("bob", "c3"));
      await presence.addPresence(ch, "c4", info("", "c4"));
      await presence.addPresence(ch, "c5", info("", "c5"));
      assert.deepEqual(await presence.presenceStats(ch), { numClients: 5, numUsers: 3 });
    });

    it("replaces a re-added client instead of counting it twice", async () => {
      const presence = await open();
      const ch = uniqueChannel("readd");
      await presence.addPresence(ch, "c1", info("alice", "c1", "old"));
      await presence.addPresence(ch, "c1", info("alice", "c1", "new"));
      assert.deepEqual(plain(await presence.presence(ch)), {
        c1: { user: "alice", client: "c1", conn: "new" },
      });
      assert.deepEqual(await presence.presenceStats(ch), { numClients: 1, numUsers: 1 });
    });

    it("removes clients; a user counts until their last client leaves", async () => {
      const presence = await open();
      const ch = uniqueChannel("remove");
      await presence.addPresence(ch, "c1", info("alice", "c1"));
      await presence.addPresence(ch, "c2", info("alice", "c2"));
      await presence.removePresence(ch, "c1", "alice");
      assert.deepEqual(Object.keys(await presence.presence(ch)), ["c2"]);
      assert.deepEqual(await presence.presenceStats(ch), { numClients: 1, numUsers: 1 });
      await presence.removePresence(ch, "c2", "alice");
      assert.deepEqual(await presence.presence(ch), {});
      assert.deepEqual(await presence.presenceStats(ch), { numClients: 0, numUsers: 0 });
    });

    it("keeps channels independent", async () => {
      const presence = await open();
      const a = uniqueChannel("a");
      const b = uniqueChannel("b");
      await presence.addPresence(a, "c1", info("alice", "c1"));
      await presence.addPresence(b, "c2", info("bob", "c2"));
      await presence.removePresence(a, "c2", "bob");
      assert.deepEqual(Object.keys(await presence.presence(a)), ["c1"]);
      assert.deepEqual(Object.keys(await presence.presence(b)), ["c2"]);
    });

    it("expires entries that are not re-added within the ttl", async () => {
      const presence = await open(200);
      const ch = uniqueChannel("expire");
      await presence.addPresence(ch, "c1", info("alice", "c1"));
      await until(async () => Object.keys(await presence.presence(ch)).length === 0, "the entry to expire");
      assert.deepEqual(await presence.presenceStats(ch), { numClients: 0, numUsers: 0 });
    });

    it("keeps entries alive while they are re-added", async () => {
      // Re-added every ~50 ms against a 1 s ttl: only a stall of a whole second could let "kept" expire.
      const presence = await open(1000);
      const ch = uniqueChannel("refresh");
      await presence.addPresence(ch, "kept", info("alice", "kept"));
      await presence.addPresence(ch, "dropped", info("bob", "dropped"));
      await until(async () => {
        await presence.addPresence(ch, "kept", info("alice", "kept"));
        await sleep(50);
        return !("dropped" in (await presence.presence(ch)));
      }, "the entry that was not re-added to expire");
      assert.deepEqual(Object.keys(await presence.presence(ch)), ["kept"]);
      assert.deepEqual(await presence.presenceStats(ch), { numClients: 1, numUsers: 1 });
    });
  });
}
