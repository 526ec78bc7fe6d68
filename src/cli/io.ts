/**
 * What a command reads and writes, passed in so commands run the same in tests and in a shell.
 */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** A command: arguments after its name in, exit status out. */
export type Command = (args: string[], io: CommandIO) => Promise<number>;

/** A usage error: the message is printed with the command's usage and the exit status is 2. */
export class UsageError extends Error {}

export const processIO: CommandIO = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};
