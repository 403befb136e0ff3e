import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerCheck } from './check.js';
import { registerRun } from './run.js';
import { registerStatus } from './status.js';
import { registerReload } from './reload.js';
import { registerHandover } from './handover.js';
import { registerGarp } from './garp.js';
import { registerLab } from './lab.js';
import { registerDoctor } from './doctor.js';

/**
 * The `vipd` command. Each subcommand lives in its own module and registers itself here;
 * the launcher in bin/vipd calls main(process.argv).
 */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vipd')
    .description('VRRP daemon for Linux (VRRPv2/v3, IPv4/IPv6), a drop-in for keepalived\'s VRRP side')
    .version(`vipd ${VERSION}`, '-v, --version', 'print the version and exit')
    .showHelpAfterError();
  registerCheck(program);
  registerRun(program);
  registerStatus(program);
  registerReload(program);
  registerHandover(program);
  registerGarp(program);
  registerLab(program);
  registerDoctor(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
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
