/**
 * The kontract command line. Exit codes: 0 clean, 1 findings or failed
 * messages, 2 usage or tool errors.
 */
import { checkCommand, CHECK_USAGE, UsageError } from "./check.js";
import { isKontractError } from "../errors.js";
import pkg from "../../package.json" with { type: "json" };

const USAGE = `kontract: data contracts for Apache Kafka

Commands:
  check <subject> <messages.jsonl>   run messages through a contract (see kontract check --help)
  lint [paths...]                    check contract files offline (see kontract lint --help)
  test [fixtures...]                 run rule tests from fixtures/*.test.yaml (see kontract test --help)
  plan [paths...] --registry <url>   what a push would register (see kontract plan --help)
  push [paths...] --registry <url>   register the contracts, checked after the write (see kontract push --help)
  pull [subjects...] --registry <url>
                                     write a registry's contracts as files (see kontract pull --help)
  diff <a> <b>                       rule-level changes between folders, git refs or registries,
                                     classed and proved on fixtures (see kontract diff --help)
  dlq <inspect|stats|replay> <topic> dead letters: list, count, replay exactly once (see kontract dlq --help)
  park <list|release> <park-topic>   keys parked behind a dead letter; release one (see kontract park --help)

Options:
  -V, --version                      print kontract's version
                                     (check --version <n> picks a contract version instead)
  -h, --help                         print this help

`;

interface Command {
  readonly run: (argv: string[]) => Promise<number>;
  readonly usage: string;
}

/** Each command's module is loaded on demand: `check` does not pay for the linter or the REST client. */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  check: async () => ({ run: (a) => checkCommand(a), usage: CHECK_USAGE }),
  lint: async () => {
    const m = await import("./lint.js");
    return { run: (a) => m.lintCommand(a), usage: m.LINT_USAGE };
  },
  test: async () => {
    const m = await import("./test.js");
    return { run: (a) => m.testCommand(a), usage: m.TEST_USAGE };
  },
  plan: async () => {
    const m = await import("./registry-commands.js");
    return { run: (a) => m.planCommand(a), usage: m.PLAN_USAGE };
  },
  push: async () => {
    const m = await import("./registry-commands.js");
    return { run: (a) => m.pushCommand(a), usage: m.PUSH_USAGE };
  },
  pull: async () => {
    const m = await import("./registry-commands.js");
    return { run: (a) => m.pullCommand(a), usage: m.PULL_USAGE };
  },
  diff: async () => {
    const m = await import("./diff.js");
    return { run: (a) => m.diffCommand(a), usage: m.DIFF_USAGE };
  },
  dlq: async () => {
    const m = await import("./dlq.js");
    return { run: (a) => m.dlqCommand(a), usage: m.DLQ_USAGE };
  },
  park: async () => {
    const m = await import("./park.js");
    return { run: (a) => m.parkCommand(a), usage: m.PARK_USAGE };
  },
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const load = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (load !== undefined) {
      const { run, usage } = await load();
      if (rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write(usage);
        return 0;
      }
      return await run(rest);
    }
    switch (command) {
      case "--version":
      case "-V":
        process.stdout.write(`kontract ${pkg.version}\n`);
        return 0;
      case undefined:
      case "--help":
      case "-h":
      case "help":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`kontract: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    // node:util parseArgs throws TypeErrors coded ERR_PARSE_ARGS_* for unknown or malformed options.
    if (e instanceof UsageError || (e instanceof TypeError && String((e as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`kontract: ${e.message}\n`);
      return 2;
    }
    if (isKontractError(e)) {
      // A ContractLoadError's message already lists every problem.
      process.stderr.write(`kontract: ${e.name} (${e.code}): ${e.message}\n`);
      return 2;
    }
    // A file that vanished or cannot be read between the checks and the read.
    if (isFileSystemError(e)) {
      process.stderr.write(`kontract: cannot read ${e.path ?? "a file"}: ${e.code}\n`);
      return 2;
    }
    throw e;
  }
}

function isFileSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === "string" && typeof (e as NodeJS.ErrnoException).code === "string";
}
