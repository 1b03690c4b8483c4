/**
 * The example app's generated clients and contract are committed: regenerating them from the handlers must
 * give the same bytes (run `npx tsx src/cli/main.ts gen-clients --handlers examples/tasks/handlers.ts
 * --output examples/tasks/clients --all` after changing the handlers or the generators). Also the CLI itself,
 * its language flags, and the generator's refusal of schemas it cannot render faithfully.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import { z } from "zod";
import { generateFiles, LANGUAGES } from "../../src/rpc/codegen/generate.js";
import { defineRpc, loadRpcRegistry, RpcRegistry } from "../../src/rpc/index.js";
import { EXAMPLE_CLIENTS, EXAMPLE_HANDLERS } from "./live.js";

const run = promisify(execFile);

describe("gen-clients", () => {
  it("the committed example clients match a fresh generation", async () => {
    const files = generateFiles(await loadRpcRegistry(EXAMPLE_HANDLERS), LANGUAGES);
    for (const [path, content] of files) {
      const committed = readFileSync(join(EXAMPLE_CLIENTS, path), "utf8");
      assert.ok(committed === content, `${path} is stale: regenerate the example clients`);
    }
    const contract = JSON.parse(files.get("rpc-schema.json")!) as {
      hash: string;
      methods: { name: string }[];
    };
    assert.match(contract.hash, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      contract.methods.map((m) => m.name),
      ["reports.export", "tasks.get", "tasks.get_stats", "tasks.list"],
    );
    for (const path of ["typescript/client.ts", "python/rpc_client/__init__.py", "go/rpcclient/client.go"]) {
      assert.ok(files.get(path)!.includes(contract.hash), `${path} names the contract hash`);
    }
  });

  it("the CLI writes the chosen languages and the contract", { timeout: 60_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), "turbine-gen-"));
    try {
      const cli = join(process.cwd(), "src/cli/main.ts");
      const args = ["--import", "tsx", cli, "gen-clients", "--handlers", EXAMPLE_HANDLERS, "--output", out];
      await run(process.execPath, [...args, "--python", "--go"]);
      assert.deepEqual(readdirSync(out).sort(), ["go", "python", "rpc-schema.json"]);
      const failed = await run(process.execPath, [
        ...args.slice(0, 4),
        "--handlers",
        "nowhere.ts",
        "--output",
        out,
      ])
        .then(() => undefined)
        .catch((err: { code: number; stderr: string }) => err);
      assert.equal(failed?.code, 1);
      assert.match(failed?.stderr ?? "", /^gen-clients: /);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("one type for a schema several methods use; zod ids name types; --package-name per language", () => {
    const page = z.object({ limit: z.number().int(), cursor: z.string().optional() });
    const registry = new RpcRegistry([
      defineRpc("a.list", { params: page, result: z.null() }, () => null),
      defineRpc("b.list", { params: page, result: z.object({ page }) }, (p) => ({ page: p })),
      defineRpc(
        "c.get",
        { params: z.object({ id: z.string() }).meta({ id: "GetParams" }), result: z.null() },
        () => null,
      ),
    ]);
    const files = generateFiles(registry, LANGUAGES, {
      packageNames: { typescript: "@acme/sdk", python: "acme_sdk", go: "example.com/acme/sdk" },
    });
    const ts = files.get("typescript/client.ts")!;
    assert.match(ts, /^export interface AListParams \{/m);
    assert.match(ts, /^ {2}page: AListParams;$/m, "the result's page is the params' type");
    assert.match(ts, /bList\(params: AListParams,/);
    assert.match(ts, /^export interface GetParams \{/m);
    assert.doesNotMatch(ts, /BListParams|BListResultPage|CGetParams/);
    assert.match(files.get("python/acme_sdk/__init__.py")!, /class GetParams\(_Model\):/);
    assert.match(files.get("go/sdk/client.go")!, /^package sdk$/m);
    assert.match(files.get("go/sdk/go.mod")!, /^module example\.com\/acme\/sdk$/m);
    assert.equal(JSON.parse(files.get("typescript/package.json")!).name, "@acme/sdk");
    assert.match(files.get("python/pyproject.toml")!, /^name = "acme_sdk"$/m);
    for (const readme of ["typescript/README.md", "python/README.md", "go/sdk/README.md"]) {
      assert.match(files.get(readme)!, /c\.get/, readme);
    }
  });

  it("refuses schemas without a faithful rendering, naming the method and path", () => {
    const cases: [z.ZodType, RegExp][] = [
      [z.object({ pair: z.tuple([z.string(), z.number()]) }), /bad params at \.pair: tuples/],
      [z.object({ lists: z.union([z.array(z.string()), z.array(z.number())]) }), /same kind/],
      [
        z.object({ level: z.union([z.literal(1), z.literal(2)]) }),
        /bad params at \.level: unions of non-string constants/,
      ],
    ];
    for (const [params, message] of cases) {
      const registry = new RpcRegistry([defineRpc("bad", { params, result: z.null() }, () => null)]);
      assert.throws(() => generateFiles(registry, LANGUAGES), message);
    }
  });
});
