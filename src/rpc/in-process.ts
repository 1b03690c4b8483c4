/** Serving mode 1: Turbine answers `rpc` commands from a registry in its own process. */
import type { RpcCall, RpcHandler } from "../core/rpc.js";
import { ClientError } from "../protocol/codes.js";
import { RPC_INVALID_PARAMS } from "./errors.js";
import { metaObject, parseJson } from "./json.js";
import { NOT_JSON_MESSAGE, type RpcLogger, type RpcRegistry } from "./registry.js";

const encoder = new TextEncoder();
const empty = new Uint8Array(0);

/** The core's RPC handler over a registry: JSON bytes in and out, outcome errors as client errors. */
export class InProcessRpcHandler implements RpcHandler {
  constructor(
    private readonly registry: RpcRegistry,
    private readonly logger: RpcLogger,
  ) {}

  handles(method: string): boolean {
    return this.registry.has(method);
  }

  async call(call: RpcCall): Promise<Uint8Array> {
    const params = parseJson(call.data);
    if (!params.ok) throw new ClientError(RPC_INVALID_PARAMS, NOT_JSON_MESSAGE);
    const meta = call.meta === undefined ? undefined : parseJson(call.meta);
    const ctx = {
      user: call.user,
      client: call.client,
      transport: call.transport,
      protocol: call.protocol,
      meta: meta?.ok === true ? metaObject(meta.value) : undefined,
    };
    const outcome = await this.registry.invoke(call.method, params.value, ctx, this.logger);
    if ("error" in outcome) throw new ClientError(outcome.error.code, outcome.error.message);
    return outcome.result === undefined ? empty : encoder.encode(JSON.stringify(outcome.result));
  }
}
