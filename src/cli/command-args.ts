import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export interface CommandIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** Exit codes: 0 done; 1 the input is not a FHIR R4 resource we accept; 2 usage or file error. */
export const ExitCode = { OK: 0, INVALID_INPUT: 1, USAGE: 2 } as const;

/** A command as its usage errors and help name it: `stepwise <name>: ...` then the usage text. */
export interface CommandUsage {
  name: string;
  usage: string;
}

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

type StrictConfig<O extends ParseArgsOptionsConfig> = { args: string[]; options: O & typeof HELP; allowPositionals: true; strict: true };
export type CommandArgs<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<StrictConfig<O>>>;

/**
 * Parses a command's arguments strictly, with -h/--help added. Returns the parsed arguments, or the
 * exit code when the command is already answered: help printed (0) or a usage error reported (2).
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  command: CommandUsage,
  args: string[],
  options: O,
  io: CommandIo,
): CommandArgs<O> | number {
  let parsed: CommandArgs<O>;
  try {
    parsed = parseArgs<StrictConfig<O>>({ args, allowPositionals: true, strict: true, options: { ...options, ...HELP } });
  } catch (err) {
    return usageError(command, io, err instanceof Error ? err.message : String(err));
  }
  // the option is ours (HELP), but TypeScript cannot narrow the generic result to it
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout(command.usage);
    return ExitCode.OK;
  }
  return parsed;
}

export function usageError(command: CommandUsage, io: CommandIo, message: string): number {
  io.stderr(`stepwise ${command.name}: ${message}\n${command.usage}`);
  return ExitCode.USAGE;
}
