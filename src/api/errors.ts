/**
 * Server API errors (centrifugo internal/apiproto/errors.go): the codes and messages the API answers with, and how each maps to an
 * HTTP status and a GRPC status code when the caller asked for the transport error mode. Messages are the
 * server API's own, which differ from the client protocol's for 104 (`not found`, not `method not found`).
 */
import { create } from "@bufbuild/protobuf";
import { type Error as ErrorMessage, ErrorSchema } from "./gen/api_pb.js";

/** The GRPC status codes the server API uses (google.rpc.Code numbering). */
export const GrpcStatus = {
  Ok: 0,
  InvalidArgument: 3,
  NotFound: 5,
  AlreadyExists: 6,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unauthenticated: 16,
} as const;
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus];

/** An expected server API error: the executor turns it into the response's `error`. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The `Error` message as it goes on the wire. */
  toMessage(): ErrorMessage {
    return create(ErrorSchema, { code: this.code, message: this.message });
  }
}

export const ApiErrorInternal = new ApiError(100, "internal server error");
export const ApiErrorUnknownChannel = new ApiError(102, "unknown channel");
export const ApiErrorNotFound = new ApiError(104, "not found");
export const ApiErrorBadRequest = new ApiError(107, "bad request");
export const ApiErrorNotAvailable = new ApiError(108, "not available");
export const ApiErrorUnrecoverablePosition = new ApiError(112, "unrecoverable position");
/** Defined by upstream, never returned by the OSS methods. */
export const ApiErrorConflict = new ApiError(113, "conflict");

/** One row of the table. */
export interface ApiErrorMapping {
  readonly error: ApiError;
  /** HTTP status in transport error mode. */
  readonly httpStatus: number;
  /** GRPC status code in transport error mode. */
  readonly grpcStatus: GrpcStatus;
}

/** Every server API error with its transport-mode statuses; codes not listed map to 500 / Internal. */
export const API_ERRORS: readonly ApiErrorMapping[] = [
  { error: ApiErrorInternal, httpStatus: 500, grpcStatus: GrpcStatus.Internal },
  { error: ApiErrorUnknownChannel, httpStatus: 404, grpcStatus: GrpcStatus.NotFound },
  { error: ApiErrorNotFound, httpStatus: 404, grpcStatus: GrpcStatus.NotFound },
  { error: ApiErrorBadRequest, httpStatus: 400, grpcStatus: GrpcStatus.InvalidArgument },
  { error: ApiErrorNotAvailable, httpStatus: 400, grpcStatus: GrpcStatus.InvalidArgument },
  { error: ApiErrorUnrecoverablePosition, httpStatus: 416, grpcStatus: GrpcStatus.OutOfRange },
  { error: ApiErrorConflict, httpStatus: 409, grpcStatus: GrpcStatus.AlreadyExists },
];

const byCode = new Map(API_ERRORS.map((mapping) => [mapping.error.code, mapping]));

/** The known API error with this code, if any. */
export function apiErrorByCode(code: number): ApiError | undefined {
  return byCode.get(code)?.error;
}

/** HTTP status for an error code in transport error mode; 500 for codes outside the table. */
export function httpStatusForCode(code: number): number {
  return byCode.get(code)?.httpStatus ?? 500;
}

/** GRPC status for an error code in transport error mode; Internal for codes outside the table. */
export function grpcStatusForCode(code: number): GrpcStatus {
  return byCode.get(code)?.grpcStatus ?? GrpcStatus.Internal;
}
