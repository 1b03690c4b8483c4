import { readFileSync } from "node:fs";
import { makeCertificates, type TestCertificates } from "./certificates.js";
import { freePort, RedisServer } from "./redis.js";

/**
 * A redis-server that also listens with TLS on `tlsPort`, requiring client certificates signed by the test
 * CA. Its plain port stays open for the harness (PING) and for checks.
 */
export class TlsRedisServer {
  private constructor(
    readonly server: RedisServer,
    readonly tlsPort: number,
    readonly certificates: TestCertificates,
  ) {}

  static async start(): Promise<TlsRedisServer> {
    const tlsPort = await freePort();
    let certificates: TestCertificates | undefined;
    const server = await RedisServer.start({
      args: (dir) => {
        certificates = makeCertificates(dir);
        return [
          "--tls-port",
          String(tlsPort),
          "--tls-cert-file",
          certificates.serverCertFile,
          "--tls-key-file",
          certificates.serverKeyFile,
          "--tls-ca-cert-file",
          certificates.caFile,
          "--tls-auth-clients",
          "yes",
        ];
      },
    });
    return new TlsRedisServer(server, tlsPort, certificates as TestCertificates);
  }

  /** The PEM text of one of the certificate files. */
  pem(path: string): string {
    return readFileSync(path, "utf8");
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
