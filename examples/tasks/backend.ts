/**
 * The example app as an RPC proxy backend (serving mode 2): the same handlers behind real Centrifugo's, or
 * Turbine's, RPC proxy. Run with `npx tsx examples/tasks/backend.ts` (PORT, default 3000), then start the server
 * with CENTRIFUGO_RPC_PROXY_ENDPOINT=http://localhost:3000/centrifugo/rpc and
 * CENTRIFUGO_RPC_WITHOUT_NAMESPACE_PROXY_ENABLED=true.
 */
import { createServer } from "node:http";
import { createRpcProxyHandler } from "../../src/rpc/index.js";
import registry from "./handlers.js";

const rpc = createRpcProxyHandler(registry);
const port = Number(process.env.PORT ?? 3000);

createServer((req, res) => {
  if (req.url === "/centrifugo/rpc") rpc(req, res);
  else res.writeHead(404).end();
}).listen(port, () => console.log(`RPC proxy backend on http://localhost:${port}/centrifugo/rpc`));
