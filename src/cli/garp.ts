/** `vipd garp INSTANCE`: send gratuitous ARPs / unsolicited NAs for a master instance now. */
import type { Command } from 'commander';
import type { ActionReply } from '../control/protocol.js';
import { fail, tryRequest, withSocketOption } from './control-client.js';

export function registerGarp(program: Command): void {
  withSocketOption(program.command('garp').description('send gratuitous ARPs / unsolicited NAs for a master instance now').argument('<instance>', 'vrrp_instance name'))
    .action(async (instance: string, opts: { controlSocket: string }) => {
      const reply = await tryRequest(opts.controlSocket, { cmd: 'garp', instance });
      if (!reply) return;
      const msg = (reply as ActionReply).message;
      if (reply.ok) process.stdout.write(`${instance}: ${msg ?? 'done'}\n`);
      else fail(`${instance}: ${('error' in reply && reply.error) || msg || 'garp failed'}`);
    });
}
