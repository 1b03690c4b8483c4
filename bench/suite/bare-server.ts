/**
 * The ceiling for any Node HTTP handler: a bare `node:http` server that reads the body and answers `{}`.
 * Run by the bench suite: `node --import tsx bench/suite/bare-http-server.ts <port>`.
 */
import { createServer } from "node:http";
import { readBody } from "./http-body.js";

const port = Number(process.argv[2]);

createServer((req, res) => {
  readBody(req, () => {
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "2" }).end("{}");
  });
}).listen(port, "127.0.0.1");
