#!/usr/bin/env node
/**
 * The `turbine` command line, a drop-in for Centrifugo's: the root command runs the server with the same
 * `-c` file, env vars and flags; helper commands generate and check configs and tokens.
 */
import { Command, InvalidArgumentError } from "commander";
import { DEFAULT_CONFIG_FILE } from "../config/index.js";
import { version } from "../version.js";
import { checkconfig } from "./checkconfig.js";
import { addConfigFlags, givenConfigFile } from "./config-flags.js";
import { defaultconfig } from "./defaultconfig.js";
import { genconfig } from "./genconfig.js";
import { serve } from "./serve.js";
import { checksubtoken, checktoken, gensubtoken, gentoken } from "./tokens.js";

const DEFAULT_TTL = 3600 * 24 * 7;

function integer(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError("not an integer");
  return Number(text);
}

/** `-c` of the helper commands, which Centrifugo names "path to config file". */
function withConfig(command: Command, description = "path to config file"): Command {
  return command.option("-c, --config <file>", description, DEFAULT_CONFIG_FILE);
}

/** Options shared by gentoken and gensubtoken. */
function withTokenOptions(command: Command, userDoc: string): Command {
  return withConfig(command)
    .option("-u, --user <user>", userDoc, "")
    .option(
      "-t, --ttl <seconds>",
      "token TTL in seconds, use -1 for token without expiration",
      integer,
      DEFAULT_TTL,
    )
    .option("-q, --quiet", "only output the token without anything else", false);
}

function addServerCommand(command: Command): Command {
  return addConfigFlags(command).action(async (_options, self: Command) => serve(self));
}

function buildProgram(): Command {
  const program = new Command("turbine")
    .description(
      "Turbine – real-time messaging server, a drop-in replacement for Centrifugo v6.\n" +
        "Runs the server by default. v5 flat flags (--port, --log_level, --grpc_api, …) are accepted with a warning.",
    )
    .enablePositionalOptions()
    .showHelpAfterError();
  addServerCommand(program);
  addServerCommand(program.command("serve").description("run the server (same as the root command)"));
  program
    .command("version")
    .description("print the version")
    .action(() => {
      process.stdout.write(`Turbine v${version} (Node.js ${process.version})\n`);
    });
  withConfig(
    program.command("genconfig").description("generate a minimal configuration file to start with"),
    "path to output config file",
  ).action((o: { config: string }) => genconfig(o.config));
  withConfig(
    program.command("checkconfig").description("check a configuration file"),
    "path to config file to check",
  )
    .option("-s, --strict", "strict check - fail on unknown keys", false)
    .action((o: { config: string; strict: boolean }) => checkconfig(o.config, o.strict));
  withTokenOptions(
    program.command("gentoken").description("generate a sample connection JWT for a user"),
    "user ID, by default anonymous",
  ).action(async (o: { user: string; ttl: number; quiet: boolean }, self: Command) =>
    gentoken({ ...o, file: givenConfigFile(self) }),
  );
  withTokenOptions(
    program.command("gensubtoken").description("generate a sample subscription JWT for a user"),
    "user ID",
  )
    .option("-s, --channel <channel>", "channel", "")
    .action(async (o: { user: string; ttl: number; quiet: boolean; channel: string }, self: Command) =>
      gensubtoken({ ...o, file: givenConfigFile(self) }),
    );
  withConfig(program.command("checktoken").argument("[token]").description("check a connection JWT")).action(
    async (token: string | undefined, _o: unknown, self: Command) => checktoken(givenConfigFile(self), token),
  );
  withConfig(
    program.command("checksubtoken").argument("[token]").description("check a subscription JWT"),
  ).action(async (token: string | undefined, _o: unknown, self: Command) =>
    checksubtoken(givenConfigFile(self), token),
  );
  withConfig(
    program.command("defaultconfig").description("generate a full configuration file with defaults"),
    "path to default config file to generate",
  )
    .option("-b, --base <file>", "path to the base config file to use")
    .option("-d, --dry-run", "print the generated config to stdout instead of writing the file", false)
    .action((o: { config: string; base?: string; dryRun: boolean }) =>
      defaultconfig({ file: o.config, base: o.base, dryRun: o.dryRun }),
    );
  return program;
}

await buildProgram().parseAsync(process.argv);
