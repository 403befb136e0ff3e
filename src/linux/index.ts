/** The Linux I/O layer: the only code (with native/) that touches the OS. */
export { SysError, native } from './native.js';
export { VrrpSocket, VRRP_GROUP4, VRRP_GROUP6, VRRP_PROTOCOL } from './vrrp-socket.js';
export type { VrrpPacket, VrrpSendOptions, VrrpSocketOptions } from './vrrp-socket.js';
export { Rtnl, RtnlMonitor, checkIfName, describeAddr } from './rtnetlink.js';
export type { AddrInfo, AddrSpec, LinkInfo, MacvlanSpec, RtnlEvent, RtnlMonitorOptions, RtnlSnapshot } from './rtnetlink.js';
export { GarpSender } from './garp.js';
export type { NaOptions } from './garp.js';
export { Sysctls, SysctlError, confKey } from './sysctl.js';
export { VmacManager, vmacName, chooseVmacName, eui64LinkLocal } from './vmac.js';
export type { Vmac, VmacRequest } from './vmac.js';
export { setRealtimePriority, setNormalScheduling, lockMemory, unlockMemory, ifNameToIndex, ifIndexToName, processRunning } from './process.js';
export { VipFirewall, explainNftErrno } from './nftables.js';
export type { FirewallAddress } from './nftables.js';
export { Routes, describeRoute, describeRule } from './routes.js';
export type { RouteSpec, RuleSpec, RouteInfo, RuleInfo } from './routes.js';
