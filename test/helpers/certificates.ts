/** Throwaway certificates made with `openssl` for the TLS tests (listeners, Redis). */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** PEM files of a throwaway CA and the server and client certificates it signed. */
export interface TestCertificates {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * Makes a CA (EC P-256) and, signed by it, a server certificate for localhost / 127.0.0.1 and a client
 * certificate, with `openssl` into `dir`. Valid for two days; test use only.
 */
export function makeCertificates(dir: string): TestCertificates {
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=turbine-test-ca",
  );
  for (const [name, cn, extensions] of [
    ["server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    ["client", "turbine-client", "extendedKeyUsage=clientAuth"],
  ] as const) {
    writeFileSync(file(`${name}.ext`), `${extensions}\n`);
    openssl("req", ...ec, "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", `/CN=${cn}`);
    openssl(
      "x509",
      "-req",
      "-in",
      file(`${name}.csr`),
      "-CA",
      file("ca.crt"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-out",
      file(`${name}.crt`),
      "-days",
      "2",
      "-extfile",
      file(`${name}.ext`),
    );
  }
  return {
    caFile: file("ca.crt"),
    serverCertFile: file("server.crt"),
    serverKeyFile: file("server.key"),
    clientCertFile: file("client.crt"),
    clientKeyFile: file("client.key"),
  };
}
