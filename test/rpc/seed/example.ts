/* eslint-disable @typescript-eslint/ban-ts-comment, @typescript-eslint/no-unused-vars -- the seed's lines as printed */
// @ts-nocheck -- the seed's error example reads `error.code` of an `unknown` catch variable, as printed.
/**
 * The seed's TypeScript examples (CentrifugoRPCClient, APIClient, TypeScript Errors) verbatim, inside a harness.
 * Usage: node --import tsx example.ts <websocket url> <token>
 */
import { APIClient, CentrifugoRPCClient } from "../../../examples/tasks/clients/typescript/client.js";

const [url, token] = process.argv.slice(2);

// prettier-ignore
async function usage(rpc: CentrifugoRPCClient) {
  // --- the seed's examples, verbatim ---
  await rpc.connect();
  {
    const result = await rpc.call('tasks.get_stats', { user_id: '123' });
    console.log("call:", JSON.stringify(result));
  }
  const api = new APIClient(rpc); const result = await api.tasksGetStats({ user_id: '123' });
  console.log("typed:", JSON.stringify(result));
  rpc.disconnect();
}

// prettier-ignore
async function connectionErrors(rpc: CentrifugoRPCClient) {
  // --- the seed's error example, verbatim ---
  // Connection errors
  try { await rpc.connect(); } catch (error) { console.error('Connection failed:', error); }
}

// prettier-ignore
async function rpcErrors(api: APIClient, params: { user_id: string }) {
  // --- the seed's error example, verbatim ---
  // RPC errors
  try { const result = await api.tasksGetStats(params); } catch (error) { if (error.code) { console.error(`RPC error ${error.code}: ${error.message}`); } }
}

await usage(new CentrifugoRPCClient(url, token, "123"));
await connectionErrors(new CentrifugoRPCClient(url.replace("/connection/websocket", "/nope"), token, "123"));
const rpc = new CentrifugoRPCClient(url, token, "123");
await rpc.connect();
await rpcErrors(new APIClient(rpc), { user_id: "" }); // the server refuses an empty user_id
rpc.disconnect();
