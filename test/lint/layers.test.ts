/** The layer rule of eslint.config.js refuses an inverted import and admits the allowed ones. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { ESLint } from "eslint";

const eslint = new ESLint({ cwd: fileURLToPath(new URL("../..", import.meta.url)) });

/** [file, import line, refused] */
const CASES: [string, string, boolean][] = [
  ["src/engine/x.ts", 'import { Node } from "../core/node.js";', true],
  ["src/engine/redis/x.ts", 'import { Node } from "../../core/node.js";', true],
  ["src/engine/redis/x.ts", 'import { codes } from "../../protocol/codes.js";', false],
  ["src/core/x.ts", 'import { RedisBroker } from "../engine/redis/broker.js";', true],
  ["src/core/x.ts", 'import type { Broker } from "../engine/types.js";', false],
  ["src/core/x.ts", 'import { toProtoPublication } from "../engine/wire.js";', false],
  ["src/core/x.ts", 'import { WebSocketHandler } from "../transport/websocket.js";', true],
  ["src/protocol/x.ts", 'import { compileGlob } from "../util/glob.js";', false],
  ["src/util/x.ts", 'import { createLogger } from "../log/logger.js";', true],
  ["src/config/x.ts", 'import type { ChannelConfig } from "../core/options.js";', false],
  ["src/config/x.ts", 'import { ChannelConfig } from "../core/options.js";', true],
  ["src/config/x.ts", 'import { ChannelRules } from "../core/namespaces.js";', true],
  ["src/api/x.ts", 'import { ProxyHooks } from "../proxy/index.js";', true],
  ["src/api/x.ts", 'import { startServer } from "../app/server.js";', true],
  ["src/cli/x.ts", 'import { startServer } from "../app/server.js";', false],
  ["src/app/x.ts", 'import { main } from "../cli/main.js";', true],
  ["src/app/x.ts", 'import { RedisBroker } from "../engine/redis/broker.js";', false],
];

describe("layer rule", () => {
  for (const [filePath, line, refused] of CASES) {
    it(`${filePath}: ${line} is ${refused ? "refused" : "allowed"}`, async () => {
      const [result] = await eslint.lintText(`${line}\nexport { x };\nconst x = 1;\n`, { filePath });
      const layer = result?.messages.filter((m) => m.ruleId === "no-restricted-imports") ?? [];
      assert.equal(layer.length > 0, refused, JSON.stringify(layer));
    });
  }
});
