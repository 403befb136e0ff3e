/** Child process for dump-signals.test.ts: a fake daemon with keepalived's dump signals installed in argv[2]. */
import { installDumpSignals } from '../../src/control/signals.js';
import { FakeDaemon } from './fake-daemon.js';

const dir = process.argv[2]!;
const d = new FakeDaemon();
installDumpSignals(d, { dir, log: (l) => process.stdout.write(l + '\n') });
process.stdout.write('ready\n');
setTimeout(() => process.exit(0), 20_000); // bounded life; the test kills it earlier
