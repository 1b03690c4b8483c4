import type { ControlHandler, Controller } from "../types.js";

/**
 * The controller of a single node: there is nobody else to tell, and the node acts on its own connections
 * directly, so a broadcast goes nowhere.
 */
export class MemoryController implements Controller {
  async registerControlHandler(_handler: ControlHandler): Promise<void> {}

  async publishControl(_data: Uint8Array): Promise<void> {}

  async close(): Promise<void> {}
}
