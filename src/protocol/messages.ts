/**
 * Fast-mode construction of the two client-protocol messages with more fields than V8 keeps in fast mode when
 * they are added one at a time, as protobuf-es's `create()` adds them: from a dozen such properties V8 turns the
 * object into a dictionary, and every subscribe then makes two objects of ~1.4 KB (its request, its result).
 * Built here as one object literal (~200 B each) with the same fields and zero values; the types require every
 * field, so a field added to client.proto fails the build until it is added here too.
 */
import { create, type DescMessage, type Message } from "@bufbuild/protobuf";
import {
  type SubscribeRequest,
  SubscribeRequestSchema,
  type SubscribeResult,
  SubscribeResultSchema,
} from "./gen/client_pb.js";

/** Zero-length, so sharing it is safe: `create()` shares its zero bytes the same way. */
const noBytes = new Uint8Array(0);

function newSubscribeRequest(): SubscribeRequest {
  return {
    $typeName: "centrifugal.centrifuge.protocol.SubscribeRequest",
    channel: "",
    token: "",
    recover: false,
    epoch: "",
    offset: 0,
    data: noBytes,
    positioned: false,
    recoverable: false,
    joinLeave: false,
    delta: "",
    flag: 0,
    type: 0,
    phase: 0,
    cursor: "",
    limit: 0,
    asc: false,
  };
}

function newSubscribeResult(): SubscribeResult {
  return {
    $typeName: "centrifugal.centrifuge.protocol.SubscribeResult",
    expires: false,
    ttl: 0,
    recoverable: false,
    epoch: "",
    publications: [],
    recovered: false,
    offset: 0,
    positioned: false,
    data: noBytes,
    wasRecovering: false,
    delta: false,
    id: 0,
    type: 0,
    phase: 0,
    cursor: "",
    state: [],
    publishDebounce: 0,
  };
}

const literals = new Map<DescMessage, () => Message>([
  [SubscribeRequestSchema, newSubscribeRequest],
  [SubscribeResultSchema, newSubscribeResult],
]);

/** `create(desc)`: a message of zero values, for the decoders to fill. */
export function newMessage(desc: DescMessage): Message {
  const literal = literals.get(desc);
  return literal === undefined ? create(desc) : literal();
}

/** `create(SubscribeRequestSchema, init)`: unset or undefined members keep their zero value, as there. */
export function subscribeRequest(init: Partial<Omit<SubscribeRequest, "$typeName">>): SubscribeRequest {
  return assignDefined(newSubscribeRequest(), init);
}

/** `create(SubscribeResultSchema, init)`, its publications already messages. */
export function subscribeResult(init: Partial<Omit<SubscribeResult, "$typeName">>): SubscribeResult {
  return assignDefined(newSubscribeResult(), init);
}

function assignDefined<M extends object>(message: M, init: object): M {
  const target = message as Record<string, unknown>;
  for (const [key, value] of Object.entries(init))
    if (value !== undefined && value !== null) target[key] = value;
  return message;
}
