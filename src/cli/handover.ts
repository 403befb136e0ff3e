/** `vipd handover INSTANCE`: hand a master instance over to a backup (make-before-break). */
import type { Command } from 'commander';
import type { ActionReply } from '../control/protocol.js';
import { fail, tryRequest, withSocketOption } from './control-client.js';

export function registerHandover(program: Command): void {
  withSocketOption(program.command('handover').description('hand a master instance over to a backup (make-before-break)').argument('<instance>', 'vrrp_instance name'))
    .action(async (instance: string, opts: { controlSocket: string }) => {
      const reply = await tryRequest(opts.controlSocket, { cmd: 'handover', instance });
      if (!reply) return;
      const msg = (reply as ActionReply).message;
      if (reply.ok) process.stdout.write(`${instance}: ${msg ?? 'done'}\n`);
      else fail(`${instance}: ${('error' in reply && reply.error) || msg || 'handover failed'}`);
    });
}
