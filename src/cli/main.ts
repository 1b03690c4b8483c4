#!/usr/bin/env node
/**
 * The `turbine` command line, a drop-in for Centrifugo's: the root command runs the server with the same
 * `-c` file, env vars and flags; helper commands generate and check configs and tokens, print the env vars and
 * config documentation, and serve static files for development.
 */
import { Command, InvalidArgumentError } from "commander";
import { DEFAULT_CONFIG_FILE } from "../config/index.js";
import { version } from "../version.js";
import { checkconfig } from "./checkconfig.js";
import { addConfigFlags, givenConfigFile } from "./config-flags.js";
import { configdoc, type ConfigDocOptions } from "./configdoc.js";
import { defaultconfig } from "./defaultconfig.js";
import { defaultenv } from "./defaultenv.js";
import { genClients, type GenClientsFlags } from "./gen-clients.js";
import { genconfig } from "./genconfig.js";
import { fail } from "./output.js";
import { serve } from "./serve.js";
import { serveStatic, type StaticServeOptions } from "./static-server.js";
import { checksubtoken, checktoken, gensubtoken, gentoken } from "./tokens.js";

/** One week, Centrifugo's default token TTL. */
const DEFAULT_TTL = 3600 * 24 * 7;

interface TokenFlags {
  user: string;
  ttl: number;
  quiet: boolean;
}

function integer(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError("not an integer");
  return Number(text);
}

/** A subcommand with `-c/--config`, described as Centrifugo describes it for that command. */
function subcommand(program: Command, name: string, description: string, configDoc = "path to config file") {
  return program
    .command(name)
    .description(description)
    .option("-c, --config <file>", configDoc, DEFAULT_CONFIG_FILE);
}

function tokenSubcommand(program: Command, name: string, description: string, userDoc: string): Command {
  return subcommand(program, name, description)
    .option("-u, --user <user>", userDoc, "")
    .option(
      "-t, --ttl <seconds>",
      "token TTL in seconds, use -1 for token without expiration",
      integer,
      DEFAULT_TTL,
    )
    .option("-q, --quiet", "only output the token without anything else", false);
}

/** `version` and `--version`, in upstream's shape (centrifugo internal/cli/version.go). */
const VERSION_LINE = `Turbine v${version} (Node.js version: ${process.version})`;

/**
 * The root command runs the server. Extra words reach it as arguments (a subcommand would have taken them),
 * so the first one is an unknown command, reported in cobra's words. Upstream then exits 0 (its main drops
 * Execute's error); status 1 lets scripts see the mistake.
 */
function addServerCommand(program: Command): void {
  addConfigFlags(program)
    .allowExcessArguments()
    .action(async (_options: unknown, self: Command) => {
      const [unknown] = self.args;
      if (unknown !== undefined) {
        fail(
          `Error: unknown command ${JSON.stringify(unknown)} for "turbine"\nRun 'turbine --help' for usage.`,
        );
      }
      await serve(self);
    });
}

function addConfigCommands(program: Command): void {
  subcommand(
    program,
    "genconfig",
    "generate a minimal configuration file to start with",
    "path to output config file",
  ).action((o: { config: string }) => genconfig(o.config));
  subcommand(program, "checkconfig", "check a configuration file", "path to config file to check")
    .option("-s, --strict", "strict check - fail on unknown keys", false)
    .action((o: { config: string; strict: boolean }) => checkconfig(o.config, o.strict));
  subcommand(
    program,
    "defaultconfig",
    "generate a full configuration file with defaults",
    "path to the file to write",
  )
    .option("-b, --base <file>", "path to the base config file to use")
    .option("-d, --dry-run", "print the generated config to stdout instead of writing the file", false)
    .action((o: { config: string; base?: string; dryRun: boolean }) =>
      defaultconfig({ file: o.config, base: o.base, dryRun: o.dryRun }),
    );
  program
    .command("defaultenv")
    .description("generate full environment var list with defaults")
    .option("-b, --base <file>", "path to the base config file to use")
    .option(
      "--base-non-zero-only",
      "only output environment variables for values which were non zero in base config file",
      false,
    )
    .action((o: { base?: string; baseNonZeroOnly: boolean }) => defaultenv(o));
  program
    .command("configdoc")
    .description("show configuration documentation generated from the config schema")
    .option("-m, --markdown", "output markdown to stdout", false)
    .option("-s, --section <name>", "filter by top-level section name", "")
    .option("-p, --port <port>", "port to run server on", integer, 6060)
    .option("-l, --base-level <level>", "base level to use", integer, 0)
    .action((o: ConfigDocOptions) => configdoc(o));
}

/** `serve`: upstream's static file server for development (centrifugo internal/cli/serve.go). */
function addStaticServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run static file server (for development only)")
    .option("-d, --dir <dir>", "path to directory", "./")
    .option("-p, --port <port>", "port to serve on", integer, 3000)
    .option("-a, --address <address>", "interface to serve on (default: all interfaces)")
    .action((o: StaticServeOptions) => serveStatic(o));
}

function addTokenCommands(program: Command): void {
  tokenSubcommand(
    program,
    "gentoken",
    "generate a sample connection JWT for a user",
    "user ID, by default anonymous",
  ).action((o: TokenFlags, self: Command) => gentoken({ ...o, file: givenConfigFile(self) }));
  tokenSubcommand(program, "gensubtoken", "generate a sample subscription JWT for a user", "user ID")
    .option("-s, --channel <channel>", "channel", "")
    .action((o: TokenFlags & { channel: string }, self: Command) =>
      gensubtoken({ ...o, file: givenConfigFile(self) }),
    );
  subcommand(program, "checktoken", "check a connection JWT")
    .argument("[token]")
    .action((token: string | undefined, _o: unknown, self: Command) =>
      checktoken(givenConfigFile(self), token),
    );
  subcommand(program, "checksubtoken", "check a subscription JWT")
    .argument("[token]")
    .action((token: string | undefined, _o: unknown, self: Command) =>
      checksubtoken(givenConfigFile(self), token),
    );
}

function buildProgram(): Command {
  const program = new Command("turbine")
    .description(
      "Turbine – real-time messaging server, a drop-in replacement for Centrifugo v6.\n" +
        "Runs the server by default. v5 flat flags (--port, --log_level, --grpc_api, …) are accepted with a warning.",
    )
    // Root flags must come before a subcommand, so that `genconfig -c x` is the subcommand's -c.
    .enablePositionalOptions()
    .showHelpAfterError()
    .version(VERSION_LINE, "--version", "print the version");
  addServerCommand(program);
  program
    .command("version")
    .description("print the version")
    .action(() => {
      process.stdout.write(`${VERSION_LINE}\n`);
    });
  addConfigCommands(program);
  addStaticServeCommand(program);
  addTokenCommands(program);
  program
    .command("gen-clients")
    .description(
      "generate typed RPC clients (TypeScript, Python, Go) and rpc-schema.json from a handlers module",
    )
    .requiredOption("--handlers <module>", "module exporting the RPC registry (defineRpc methods)")
    .requiredOption("--output <dir>", "output directory")
    .option("--all", "generate all clients (the default when no language is chosen)")
    .option("--typescript", "generate the TypeScript client")
    .option("--python", "generate the Python client")
    .option("--go", "generate the Go client")
    .option("--python-models <kind>", "Python models: pydantic (default) or dataclasses")
    .option(
      "--package-name <language=name>",
      "package name per language (typescript=npm name, python=package, go=module path); repeatable",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--verbose", "verbose output")
    .action((o: GenClientsFlags) => genClients(o));
  return program;
}

await buildProgram().parseAsync(process.argv);
