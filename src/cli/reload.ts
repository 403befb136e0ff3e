/** `vipd reload`: ask the running daemon to re-read its configuration (like SIGHUP, with a report). */
import type { Command } from 'commander';
import type { ReloadReply } from '../control/protocol.js';
import { fail, tryRequest, withSocketOption } from './control-client.js';

export function registerReload(program: Command): void {
  withSocketOption(
    program.command('reload').description('reload the running daemon\'s configuration and report what changed'),
  )
    .option('--json', 'print the reply as JSON')
    .action(async (opts: { controlSocket: string; json?: boolean }) => {
      const reply = await tryRequest(opts.controlSocket, { cmd: 'reload' });
      if (!reply) return;
      if (opts.json) process.stdout.write(JSON.stringify(reply, null, 2) + '\n');
      const r = (reply as ReloadReply).reload;
      if (!opts.json && r) {
        for (const d of r.diagnostics) process.stderr.write(`${d}\n`);
        const list = (label: string, xs: string[]) => (xs.length ? `  ${label}: ${xs.join(', ')}\n` : '');
        if (r.ok) {
          process.stdout.write(
            'reloaded\n' + list('added', r.added) + list('removed', r.removed) + list('changed', r.changed) +
              list('unchanged', r.unchanged),
          );
        }
      }
      if (!reply.ok) fail('error' in reply && reply.error ? reply.error : 'reload failed');
    });
}
