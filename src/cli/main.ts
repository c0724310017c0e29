/**
 * The kontract command line. Exit codes: 0 clean, 1 findings or failed
 * messages, 2 usage or tool errors.
 */
import { checkCommand, CHECK_USAGE, UsageError } from "./check.js";
import { isKontractError } from "../errors.js";

const USAGE = `kontract: data contracts for Apache Kafka

Commands:
  check <subject> <messages.jsonl>   run messages through a contract (see kontract check --help)

`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "check":
        if (rest.includes("--help") || rest.includes("-h")) {
          process.stdout.write(CHECK_USAGE);
          return 0;
        }
        return await checkCommand(rest);
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
    if (e instanceof UsageError) {
      process.stderr.write(`kontract: ${e.message}\n`);
      return 2;
    }
    if (isKontractError(e)) {
      process.stderr.write(`kontract: ${e.name} (${e.code}): ${e.message}\n`);
      for (const inner of (e as { errors?: unknown[] }).errors ?? []) process.stderr.write(`  ${(inner as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
