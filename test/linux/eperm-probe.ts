/** Run as an unprivileged user by netlink.test.ts: prints the errors of privileged operations as JSON. */
import { VrrpSocket } from '../../src/linux/vrrp-socket.js';
import { Rtnl } from '../../src/linux/rtnetlink.js';
import { native } from '../../src/linux/native.js';

// Started as root inside the namespace; drop to nobody before trying anything.
process.setgroups?.([]);
process.setgid?.(65534);
process.setuid?.(65534);

const out: Record<string, { code?: string; message?: string }> = {};
try {
  VrrpSocket.open(4).close();
  out.vrrp = { code: 'none' };
} catch (e) {
  out.vrrp = { code: (e as { code?: string }).code, message: (e as Error).message };
}
const r = Rtnl.open();
try {
  await r.addAddress({ family: 4, ifindex: native().ifNameToIndex('eth0'), address: Uint8Array.of(192, 0, 2, 77), prefixlen: 24 });
  out.addr = { code: 'none' };
} catch (e) {
  out.addr = { code: (e as { code?: string }).code, message: (e as Error).message };
}
r.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
