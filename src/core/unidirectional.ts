import {
  type ClientError,
  Disconnect,
  DisconnectExpired,
  DisconnectPermissionDenied,
  DisconnectServerError,
  DisconnectTooManyRequests,
  ErrorExpired,
  ErrorPermissionDenied,
  ErrorTokenExpired,
  ErrorTooManyRequests,
} from "../protocol/codes.js";
import type { ClientConfig } from "./options.js";

/** centrifuge client.go `defaultUniErrorCodeToDisconnect`. */
const defaultDisconnects: ReadonlyMap<number, Disconnect> = new Map([
  [ErrorExpired.code, DisconnectExpired],
  [ErrorTokenExpired.code, DisconnectExpired],
  [ErrorTooManyRequests.code, DisconnectTooManyRequests],
  [ErrorPermissionDenied.code, DisconnectPermissionDenied],
]);

/**
 * The disconnect that ends a refused unidirectional connect (centrifuge client.go
 * `extractUnidirectionalDisconnect`): a disconnect stays; an error becomes the disconnect
 * `client.connect_code_to_unidirectional_disconnect` maps its code to, else upstream's default for it, else 3004.
 */
export function unidirectionalDisconnect(
  refusal: ClientError | Disconnect,
  mapping: ClientConfig["connect_code_to_unidirectional_disconnect"],
): Disconnect {
  if (refusal instanceof Disconnect) return refusal;
  const transform = mapping.enabled ? mapping.transforms.find((t) => t.code === refusal.code) : undefined;
  if (transform !== undefined) return new Disconnect(transform.to.code, transform.to.reason);
  return defaultDisconnects.get(refusal.code) ?? DisconnectServerError;
}
