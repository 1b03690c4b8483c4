/**
 * Kept only while `node.ts` imports the wire conversion from here; its home is `engine/wire.ts`.
 */
export { toProtoClientInfo, toProtoPublication } from "../engine/wire.js";
