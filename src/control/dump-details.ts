/**
 * The configuration-only facts of keepalived's dumps (authentication, excluded VIPs, GARP settings, preempt, unicast
 * peers, router_id, track files, …) taken from a parsed keepalived.conf, for `installDumpSignals({details})`.
 * What only the running daemon knows (the master's priority, socket fds, the next read timeout) is not here.
 */
import type { KeepalivedConfig } from '../config/model.js';
import type { DumpDetails, InstanceDumpDetails } from './dumps.js';

export function dumpDetailsFromConfig(config: KeepalivedConfig): DumpDetails {
  const instances: Record<string, InstanceDumpDetails> = {};
  for (const i of config.instances) {
    const d: InstanceDumpDetails = {
      accept: i.accept,
      nopreempt: !i.preempt,
      preemptDelaySec: i.preemptDelay,
      promoteSecondaries: i.promoteSecondaries,
      excludedVips: i.vipsExcluded.map((v) => v.text),
      garpDelaySec: i.garp.masterDelay,
      garpRepeat: i.garp.masterRepeat,
      garpRefreshSec: i.garp.masterRefresh,
      garpRefreshRepeat: i.garp.masterRefreshRepeat,
      garpLowerPrioDelaySec: i.garp.lowerPrioDelay,
      garpLowerPrioRepeat: i.garp.lowerPrioRepeat,
      downTimerAdverts: i.downTimerAdverts,
      lowerPrioNoAdvert: i.lowerPrioNoAdvert,
      higherPrioSendAdvert: i.higherPrioSendAdvert,
      unicastPeers: i.unicastPeers.map((p) => p.address),
      srcFromConfig: Boolean(i.unicastSrcIp ?? i.mcastSrcIp),
      // Unset unless configured: the formatter then applies keepalived's rule (on with unicast).
      ...(i.vmacXmitBase ? { vmacXmitBase: true } : {}),
      dontTrackPrimary: i.dontTrackPrimary,
      skipCheckAdvAddr: i.skipCheckAdvAddr,
      strictMode: i.strict,
      smtpAlert: i.smtpAlert,
    };
    if (i.version === 2 && i.auth) {
      d.authType = i.auth.type;
      d.authPass = i.auth.pass;
    }
    instances[i.name] = d;
  }
  const trackFiles: Record<string, { path: string; weight: number }> = {};
  for (const t of config.trackFiles) trackFiles[t.name] = { path: t.file, weight: t.weight };
  return {
    ...(config.global.routerId ? { routerId: config.global.routerId } : {}),
    instances,
    trackFiles,
  };
}
