import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';

type Register = (program: Command) => void;

/** Each subcommand lives in its own module and registers itself; loaded on demand (see buildProgram). */
const SUBCOMMANDS: [string, () => Promise<Register>][] = [
  ['check', async () => (await import('./check.js')).registerCheck],
  ['run', async () => (await import('./run.js')).registerRun],
  ['status', async () => (await import('./status.js')).registerStatus],
  ['reload', async () => (await import('./reload.js')).registerReload],
  ['handover', async () => (await import('./handover.js')).registerHandover],
  ['garp', async () => (await import('./garp.js')).registerGarp],
  ['lab', async () => (await import('./lab.js')).registerLab],
  ['doctor', async () => (await import('./doctor.js')).registerDoctor],
];

/**
 * The `vipd` command; the launcher in bin/vipd calls main(process.argv). When the first argument names a subcommand,
 * only that subcommand's module is loaded: the daemon (`vipd run`) does not carry the lab, doctor and client code
 * (a few MB of RSS). Otherwise (help, an unknown command) all are registered.
 */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command();
  program
    .name('vipd')
    .description('VRRP daemon for Linux (VRRPv2/v3, IPv4/IPv6), a drop-in for keepalived\'s VRRP side')
    .version(`vipd ${VERSION}`, '-v, --version', 'print the version and exit')
    .showHelpAfterError();
  const named = SUBCOMMANDS.find(([name]) => name === argv[2]);
  for (const [, load] of named ? [named] : SUBCOMMANDS) (await load())(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`vipd: ${msg}\n`);
    process.exitCode = 1;
  }
}
