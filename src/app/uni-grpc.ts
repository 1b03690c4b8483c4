/**
 * The uni_grpc server (centrifugo internal/app/grpc.go `runGRPCUniServer`): its own GRPC server on
 * `uni_grpc.address:port` (11000), with `uni_grpc.tls` and `max_receive_message_size`, and keepalive pings
 * every 25 s answered within 5 s, as upstream's keepalive parameters.
 */
import { Server } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { bindGrpcServer, shutdownGrpcServer } from "../api/grpc.js";
import { grpcServerCredentials } from "../api/grpc-tls.js";
import type { Config } from "../config/index.js";
import type { Node } from "../core/node.js";
import { uniStreamImplementation, uniStreamService } from "../transport/uni-grpc.js";

export class UniGrpcServer {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    /** The port bound (the configured one, or the one picked for port 0). */
    readonly port: number,
  ) {}

  /** Listen and serve; rejects on a bad TLS config or when the address cannot be bound. */
  static async start(
    node: Node,
    config: Config["uni_grpc"],
    metadataKeys: readonly string[],
    logger: Logger,
  ): Promise<UniGrpcServer> {
    const credentials = grpcServerCredentials(config.tls, "uni_grpc");
    const server = new Server({
      "grpc.keepalive_time_ms": 25_000,
      "grpc.keepalive_timeout_ms": 5_000,
      ...(config.max_receive_message_size > 0
        ? { "grpc.max_receive_message_length": config.max_receive_message_size }
        : {}),
    });
    server.addService(uniStreamService, uniStreamImplementation(node, metadataKeys));
    let port: number;
    try {
      port = await bindGrpcServer(server, config.address, config.port, credentials);
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
    logger.info({ port, address: config.address, tls: config.tls.enabled }, "serving unidirectional GRPC");
    return new UniGrpcServer(server, port);
  }

  /** Stop accepting; streams still open after `timeoutMs` are cut (the node closes its sessions meanwhile). */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= shutdownGrpcServer(this.server, timeoutMs);
    return this.closing;
  }
}
