// Lint rules: ESLint's and typescript-eslint's recommended sets; formatting is Prettier's job.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The layer rule of DESIGN.md ("Layers: imports point inwards only"): what each top-level folder of src/ may
 * import besides itself. util and log may be imported by every folder (util imports nothing, log only util);
 * `engine-port` is engine's types.ts and wire.ts, never an implementation. app/ (wiring) imports anything
 * but cli/; cli/ and index.ts import anything; nothing else imports app/ or cli/. auth is a library beneath
 * core (JWT verification: it imports protocol only, and core builds its TokenVerifier).
 */
const OUTER = ["protocol", "auth", "config", "core", "engine-port"];
const MAY_IMPORT = {
  util: [],
  log: [],
  protocol: [],
  auth: ["protocol"],
  engine: ["protocol"],
  config: ["protocol", "auth", "core/options.ts types"],
  core: ["protocol", "auth", "engine-port"],
  transport: OUTER,
  api: OUTER,
  proxy: OUTER,
  rpc: OUTER,
  metrics: OUTER,
  admin: [...OUTER, "api"],
  consuming: [...OUTER, "api"],
  tracing: OUTER,
  app: [...OUTER, "engine", "transport", "api", "proxy", "rpc", "metrics", "admin", "consuming", "tracing"],
};
const FOLDERS = [...Object.keys(MAY_IMPORT), "cli"];
/** Another top-level folder as written from inside src/: `../core/node.js`, `../../core/node.js`, `../app.js`. */
const into = (folders, rest = "/") => `^(?:\\.\\./)+(?:${folders.join("|")})(?:${rest}|\\.js$)`;

/** The no-restricted-imports patterns that keep `folder` to its {@link MAY_IMPORT} list. */
function layerPatterns(folder) {
  const open = folder === "util" ? [] : ["util", "log"];
  const allowed = [...MAY_IMPORT[folder], ...open];
  const message = `src/${folder} may import only ${allowed.join(", ") || "itself"} (eslint.config.js, DESIGN.md)`;
  const denied = FOLDERS.filter((f) => f !== folder && !allowed.includes(f));
  const patterns = [{ regex: into(denied.filter((f) => f !== "engine" && f !== "core")), message }];
  if (denied.includes("engine")) {
    const port = allowed.includes("engine-port") ? "/(?!(?:types|wire)\\.js$)" : "/";
    patterns.push({ regex: into(["engine"], port), message });
  }
  if (denied.includes("core")) {
    const options = folder === "config" ? "/(?!options\\.js$)" : "/";
    patterns.push({ regex: into(["core"], options), message });
  }
  if (folder === "config") {
    patterns.push({ regex: "^(?:\\.\\./)+core/options\\.js$", allowTypeImports: true, message });
  }
  return patterns;
}

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "src/protocol/gen/",
      "src/api/gen/",
      "src/proxy/gen/",
      "examples/*/clients/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...Object.keys(MAY_IMPORT).map((folder) => ({
    files: [`src/${folder}/**/*.ts`],
    // Tests wire implementations together, as app/ does.
    ignores: ["**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: layerPatterns(folder) }] },
  })),
);
