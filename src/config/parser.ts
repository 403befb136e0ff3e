/**
 * keepalived.conf interpreter: turns the statement tree into the typed model (model.ts), applying keepalived's
 * defaults and corrections, and reports every problem as a `file:line: message` diagnostic. Never throws.
 *
 * Entry points: `parseConfig(path, opts)` and, for tests, `parseConfigText(text, virtualPath, opts)`.
 */
import { Lexer, type Token } from './lexer.js';
import { buildTree, type Stmt } from './tree.js';
import type {
  Authentication,
  Diagnostic,
  Family,
  GarpSettings,
  GlobalDefs,
  KeepalivedConfig,
  NotifyScript,
  NotifyScripts,
  ParseOptions,
  ParseResult,
  SourcePos,
  SyncGroup,
  TrackFile,
  TrackProcess,
  TrackRef,
  VirtualAddress,
  VirtualRoute,
  UnicastPeer,
  VrrpInstance,
  VrrpScript,
} from './model.js';
import { parseBoolWord, parseDecimal, parseIntStrict, parseIp, parseMac, splitCommand } from './values.js';
import {
  GLOBAL_IGNORED,
  INSTANCE_IGNORED,
  LVS_TOP_LEVEL,
  TOP_LEVEL_IGNORED,
} from './keywords.js';

export { formatDiagnostic, checkExitCode } from './diagnostics.js';

const pos = (st: { file: string; line: number }): SourcePos => ({ file: st.file, line: st.line });

/** Parse the configuration file at `path` (and its includes). Never throws. */
export function parseConfig(path: string, opts: ParseOptions = {}): ParseResult {
  return run(path, undefined, opts);
}

/** Parse `text` as if it were the file `virtualPath` (includes resolve relative to it). Never throws. */
export function parseConfigText(text: string, virtualPath = 'keepalived.conf', opts: ParseOptions = {}): ParseResult {
  return run(virtualPath, text, opts);
}

function run(path: string, text: string | undefined, opts: ParseOptions): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const config = emptyConfig(path);
  let usable = false;
  try {
    const lexer = new Lexer(diagnostics, opts);
    const ok = lexer.readMain(path, text);
    if (ok) {
      const tree = buildTree(lexer.lines, diagnostics);
      const interp = new Interpreter(config, diagnostics);
      interp.run(tree);
      usable = interp.declaredInstances === 0 || config.instances.length > 0;
    }
  } catch (e) {
    // A bug, not a configuration problem: still a diagnostic, never a stack trace.
    const msg = e instanceof Error ? e.message : String(e);
    diagnostics.push({ severity: 'error', file: path, line: 0, message: `internal error while reading the configuration: ${msg}` });
    usable = false;
  }
  if (diagnostics.length > MAX_DIAGNOSTICS) {
    const extra = diagnostics.length - MAX_DIAGNOSTICS;
    const errors = diagnostics.slice(MAX_DIAGNOSTICS).filter((d) => d.severity === 'error').length;
    diagnostics.length = MAX_DIAGNOSTICS;
    diagnostics.push({ severity: errors > 0 ? 'error' : 'warning', file: path, line: 1, message: `${extra} more diagnostics (${errors} errors) not shown` });
  }
  return { config, diagnostics, usable };
}

/** Most diagnostics reported for one configuration; the rest are summarised in one line. */
const MAX_DIAGNOSTICS = 1000;

export function defaultGarp(): GarpSettings {
  return {
    masterDelay: 5,
    masterRepeat: 5,
    masterRefresh: 0,
    masterRefreshRepeat: 1,
    lowerPrioDelay: 5,
    lowerPrioRepeat: 5,
    garpInterval: 0,
    gnaInterval: 0,
    extraIf: null,
  };
}

export function defaultGlobal(): GlobalDefs {
  return {
    routerId: null,
    vrrpVersion: 2,
    mcastGroup4: '224.0.0.18',
    mcastGroup6: 'ff02::12',
    strict: false,
    checkUnicastSrc: false,
    skipCheckAdvAddr: false,
    startupDelay: 0,
    garp: defaultGarp(),
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
    ownerIgnoreAdverts: false,
    downTimerAdverts: 3,
    v3ChecksumAsV2: false,
    notifyPriorityChanges: false,
    minGarp: false,
    scriptUser: null,
    scriptGroup: null,
    enableScriptSecurity: false,
    notifyFifo: null,
    notifyFifoScript: null,
    vrrpNotifyFifo: null,
    vrrpNotifyFifoScript: null,
    maxAutoPriority: null,
    dynamicInterfaces: false,
    netNamespace: null,
    vmacPrefix: 'vrrp',
    notificationEmail: [],
    notificationEmailFrom: null,
    smtpServer: null,
    smtpAlert: false,
    src: null,
  };
}

function emptyConfig(file: string): KeepalivedConfig {
  return {
    file,
    global: defaultGlobal(),
    instances: [],
    syncGroups: [],
    scripts: [],
    trackFiles: [],
    trackProcesses: [],
    staticAddresses: [],
    staticRoutes: [],
    staticRules: [],
    hasLvs: false,
  };
}

function emptyNotify(): NotifyScripts {
  return { master: null, backup: null, fault: null, stop: null, deleted: null, masterRxLowerPri: null, any: null };
}

/** An instance while it is being read: the model plus what was explicitly given. */
interface Draft {
  inst: VrrpInstance;
  given: {
    priority: boolean;
    state: boolean;
    version: boolean;
    advertInt: number | null;
    advertStmt: Stmt | null;
    nopreempt: Stmt | null;
    preemptDelay: Stmt | null;
    accept: Stmt | null;
    auth: Stmt | null;
    xmitBase: Stmt | null;
    downTimer: Stmt | null;
    strict: boolean | null;
    garp: Partial<GarpSettings>;
    lowerPrioNoAdvert: boolean | null;
    higherPrioSendAdvert: boolean | null;
    ownerIgnoreAdverts: boolean | null;
    v3ChecksumAsV2: boolean | null;
    skipCheckAdvAddr: boolean | null;
    checkUnicastSrc: boolean | null;
    notifyPriorityChanges: boolean | null;
    vipStmts: { addr: VirtualAddress; st: Stmt }[];
    trackScriptStmts: Stmt[];
    trackFileStmts: Stmt[];
    trackProcessStmts: Stmt[];
  };
  hasVrid: boolean;
}

interface GroupDraft {
  group: SyncGroup;
  members: Token[];
}

class Interpreter {
  declaredInstances = 0;
  private drafts: Draft[] = [];
  private readonly draftNames = new Set<string>();
  /** Track references that said neither reverse nor noreverse. */
  private readonly reverseUnset = new WeakSet<TrackRef>();
  private groupDrafts: GroupDraft[] = [];
  private lvsNoticed = false;
  private garpLowerPrioDelayGiven = false;
  private garpLowerPrioRepeatGiven = false;

  constructor(
    private readonly cfg: KeepalivedConfig,
    private readonly diags: Diagnostic[],
  ) {}

  // ---- diagnostics -------------------------------------------------------------------------------------------
  err(at: { file: string; line: number }, message: string): void {
    this.diags.push({ severity: 'error', file: at.file, line: at.line, message });
  }
  warn(at: { file: string; line: number }, message: string): void {
    this.diags.push({ severity: 'warning', file: at.file, line: at.line, message });
  }
  note(at: { file: string; line: number }, message: string): void {
    this.diags.push({ severity: 'notice', file: at.file, line: at.line, message });
  }

  // ---- argument helpers --------------------------------------------------------------------------------------
  /** The single argument of `st`, or null (after an error) when missing. Extra words are warned about. */
  private arg(st: Stmt, what: string): string | null {
    if (st.args.length === 0) {
      this.err(st, `'${st.keyword}' needs a value (${what})`);
      return null;
    }
    if (st.args.length > 1) {
      this.warn(st.args[1]!, `'${st.keyword}': extra words after the value ignored ('${st.args.slice(1).map((a) => a.text).join(' ')}')`);
    }
    return st.args[0]!.text;
  }

  private int(st: Stmt, min: number, max: number, what = `an integer ${min}-${max}`): number | null {
    const a = this.arg(st, what);
    if (a === null) return null;
    const n = parseIntStrict(a);
    if (n === null) {
      this.err(st, `'${st.keyword}': invalid number '${a}', expected ${what}; ignored`);
      return null;
    }
    if (n < min || n > max) {
      this.err(st, `'${st.keyword}': ${n} is outside the range ${min}-${max}; ignored`);
      return null;
    }
    return n;
  }

  private num(st: Stmt, min: number, max: number, unit = 'seconds'): number | null {
    const a = this.arg(st, `a number of ${unit} ${min}-${max}`);
    if (a === null) return null;
    const n = parseDecimal(a);
    if (n === null) {
      this.err(st, `'${st.keyword}': invalid number '${a}', expected ${unit} (${min}-${max}); ignored`);
      return null;
    }
    if (n < min || n > max) {
      this.err(st, `'${st.keyword}': ${a} is outside the range ${min}-${max}; ignored`);
      return null;
    }
    return n;
  }

  /** A keyword that is on when present, or takes an optional BOOL. */
  private bool(st: Stmt): boolean {
    if (st.args.length === 0) return true;
    const b = parseBoolWord(st.args[0]!.text);
    if (b === null) {
      this.err(st, `'${st.keyword}': expected on/off, true/false or yes/no, got '${st.args[0]!.text}'; taken as on`);
      return true;
    }
    return b;
  }

  private str(st: Stmt, what: string): string | null {
    return this.arg(st, what);
  }

  private noBlock(st: Stmt): void {
    if (st.block !== null) this.err(st, `'${st.keyword}' does not take a '{ }' block; block ignored`);
  }

  private needBlock(st: Stmt): Stmt[] | null {
    if (st.block === null) {
      this.err(st, `'${st.keyword}' expects a '{ ... }' block`);
      return null;
    }
    return st.block;
  }

  private unknown(st: Stmt, where: string): void {
    this.err(st, `unknown keyword '${st.keyword}' in ${where}; ignored`);
  }

  // ---- top level ---------------------------------------------------------------------------------------------
  run(tree: Stmt[]): void {
    // Scripts, trackers and globals first: instances refer to them regardless of order.
    for (const st of tree) {
      switch (st.keyword) {
        case 'global_defs':
          this.globalDefs(st);
          break;
        case 'vrrp_script':
          this.vrrpScript(st);
          break;
        case 'track_file':
        case 'vrrp_track_file':
          this.trackFileDef(st);
          break;
        case 'vrrp_track_process':
        case 'track_process':
          this.trackProcessDef(st);
          break;
      }
    }
    for (const st of tree) {
      switch (st.keyword) {
        case 'global_defs':
        case 'vrrp_script':
        case 'track_file':
        case 'vrrp_track_file':
        case 'vrrp_track_process':
        case 'track_process':
          break;
        case 'vrrp_instance':
          this.declaredInstances++;
          this.instance(st);
          break;
        case 'vrrp_sync_group':
          this.syncGroup(st);
          break;
        case 'static_ipaddress': {
          const b = this.needBlock(st);
          if (b) for (const s of b) this.address(s, this.cfg.staticAddresses, 'static_ipaddress');
          break;
        }
        case 'static_routes':
        case 'static_rules': {
          const b = this.needBlock(st);
          const list = st.keyword === 'static_routes' ? this.cfg.staticRoutes : this.cfg.staticRules;
          if (b) for (const s of b) list.push(this.route(s, st.keyword === 'static_rules'));
          break;
        }
        case 'net_namespace':
          this.noBlock(st);
          this.cfg.global.netNamespace = this.str(st, 'a namespace name');
          break;
        default:
          if (LVS_TOP_LEVEL.has(st.keyword)) {
            this.cfg.hasLvs = true;
            if (!this.lvsNoticed) {
              this.lvsNoticed = true;
              this.note(st, `'${st.keyword}': vipd does VRRP only; LVS/checker configuration (virtual_server, real_server, checkers) is skipped`);
            }
          } else if (TOP_LEVEL_IGNORED.has(st.keyword)) {
            this.note(st, `'${st.keyword}' is not supported by vipd; ignored`);
          } else {
            this.unknown(st, 'the top level');
          }
      }
    }
    this.finish();
  }

  // ---- global_defs -------------------------------------------------------------------------------------------
  private globalDefs(st: Stmt): void {
    const g = this.cfg.global;
    g.src = pos(st);
    const b = this.needBlock(st);
    if (!b) return;
    for (const s of b) {
      const k = s.keyword;
      if (k !== 'notification_email') this.noBlock(s);
      switch (k) {
        case 'router_id':
          g.routerId = this.str(s, 'a name');
          break;
        case 'vrrp_version': {
          const v = this.int(s, 2, 3);
          if (v !== null) g.vrrpVersion = v as 2 | 3;
          break;
        }
        case 'vrrp_mcast_group4': {
          const a = this.str(s, 'an IPv4 multicast address');
          const ip = a === null ? null : parseIp(a);
          if (a !== null && (!ip || ip.family !== 4 || !isMulticast(ip.address))) this.err(s, `'${k}': '${a}' is not an IPv4 multicast address; ignored`);
          else if (ip) g.mcastGroup4 = ip.address;
          break;
        }
        case 'vrrp_mcast_group6': {
          const a = this.str(s, 'an IPv6 multicast address');
          const ip = a === null ? null : parseIp(a);
          if (a !== null && (!ip || ip.family !== 6 || !isMulticast(ip.address))) this.err(s, `'${k}': '${a}' is not an IPv6 multicast address; ignored`);
          else if (ip) g.mcastGroup6 = ip.address;
          break;
        }
        case 'vrrp_strict':
          g.strict = true;
          break;
        case 'vrrp_check_unicast_src':
          g.checkUnicastSrc = true;
          break;
        case 'vrrp_skip_check_adv_addr':
          g.skipCheckAdvAddr = this.bool(s);
          break;
        case 'vrrp_startup_delay': {
          const v = this.num(s, 0, 3600);
          if (v !== null) g.startupDelay = v;
          break;
        }
        case 'vrrp_garp_master_delay': {
          const v = this.int(s, 0, 86400);
          if (v !== null) g.garp.masterDelay = v;
          break;
        }
        case 'vrrp_garp_master_repeat': {
          const v = this.int(s, 0, 10000);
          if (v !== null) g.garp.masterRepeat = v;
          break;
        }
        case 'vrrp_garp_master_refresh': {
          const v = this.int(s, 0, 86400);
          if (v !== null) g.garp.masterRefresh = v;
          break;
        }
        case 'vrrp_garp_master_refresh_repeat': {
          const v = this.int(s, 0, 10000);
          if (v !== null) g.garp.masterRefreshRepeat = v;
          break;
        }
        case 'vrrp_garp_lower_prio_delay': {
          const v = this.int(s, 0, 86400);
          if (v !== null) {
            g.garp.lowerPrioDelay = v;
            this.garpLowerPrioDelayGiven = true;
          }
          break;
        }
        case 'vrrp_garp_lower_prio_repeat': {
          const v = this.int(s, 0, 10000);
          if (v !== null) {
            g.garp.lowerPrioRepeat = v;
            this.garpLowerPrioRepeatGiven = true;
          }
          break;
        }
        case 'vrrp_garp_interval': {
          const v = this.num(s, 0, 1);
          if (v !== null) g.garp.garpInterval = v;
          break;
        }
        case 'vrrp_gna_interval': {
          const v = this.num(s, 0, 1);
          if (v !== null) g.garp.gnaInterval = v;
          break;
        }
        case 'vrrp_garp_extra_if': {
          const e = this.extraIf(s);
          if (e) g.garp.extraIf = e;
          break;
        }
        case 'vrrp_min_garp':
          g.minGarp = this.bool(s);
          break;
        case 'vrrp_lower_prio_no_advert':
          g.lowerPrioNoAdvert = this.bool(s);
          break;
        case 'vrrp_higher_prio_send_advert':
          g.higherPrioSendAdvert = this.bool(s);
          break;
        case 'vrrp_owner_ignore_adverts':
          g.ownerIgnoreAdverts = this.bool(s);
          break;
        case 'vrrp_down_timer_adverts': {
          const v = this.int(s, 1, 100);
          if (v !== null) g.downTimerAdverts = v;
          break;
        }
        case 'v3_checksum_as_v2':
          g.v3ChecksumAsV2 = this.bool(s);
          break;
        case 'vrrp_notify_priority_changes':
          g.notifyPriorityChanges = this.bool(s);
          break;
        case 'script_user': {
          if (s.args.length === 0) this.err(s, "'script_user' needs a user name");
          else {
            g.scriptUser = s.args[0]!.text;
            g.scriptGroup = s.args[1]?.text ?? null;
          }
          break;
        }
        case 'enable_script_security':
          g.enableScriptSecurity = true;
          break;
        case 'notify_fifo':
          g.notifyFifo = this.fifo(s);
          break;
        case 'notify_fifo_script':
          g.notifyFifoScript = this.str(s, 'a script');
          break;
        case 'vrrp_notify_fifo':
          g.vrrpNotifyFifo = this.fifo(s);
          break;
        case 'vrrp_notify_fifo_script':
          g.vrrpNotifyFifoScript = this.str(s, 'a script');
          break;
        case 'max_auto_priority': {
          if (s.args.length === 0) g.maxAutoPriority = 99;
          else {
            const v = this.int(s, -1, 99);
            if (v !== null) g.maxAutoPriority = v;
          }
          break;
        }
        case 'dynamic_interfaces':
          g.dynamicInterfaces = true;
          break;
        case 'vmac_prefix': {
          const v = this.str(s, 'an interface name prefix');
          if (v !== null) g.vmacPrefix = v;
          break;
        }
        case 'notification_email': {
          const blk = this.needBlock(s);
          if (blk) for (const e of blk) g.notificationEmail.push(e.keyword, ...e.args.map((a) => a.text));
          break;
        }
        case 'notification_email_from':
          g.notificationEmailFrom = this.str(s, 'an e-mail address');
          break;
        case 'smtp_server':
          if (s.args.length === 0) this.err(s, "'smtp_server' needs an address");
          else g.smtpServer = s.args.map((a) => a.text).join(' ');
          break;
        case 'smtp_alert':
        case 'smtp_alert_vrrp':
          g.smtpAlert = this.bool(s);
          break;
        default:
          if (!GLOBAL_IGNORED.has(k)) this.unknown(s, 'global_defs');
      }
    }
  }

  private fifo(s: Stmt): string | null {
    return this.str(s, 'a FIFO path');
  }

  private extraIf(s: Stmt): { all: boolean; delay: number } | null {
    const words = s.args.map((a) => a.text);
    let all = false;
    if (words[0] === 'all') {
      all = true;
      words.shift();
    }
    if (words.length === 0) return { all, delay: 0 };
    const n = parseIntStrict(words[0]!);
    if (n === null || n < 0 || n > 86400) {
      this.err(s, `'${s.keyword}': expected [all] SECONDS (0-86400), got '${words.join(' ')}'; ignored`);
      return null;
    }
    return { all, delay: n };
  }

  // ---- vrrp_script / track_file / vrrp_track_process ---------------------------------------------------------
  private blockName(st: Stmt, what: string): string | null {
    if (st.args.length === 0) {
      this.err(st, `'${st.keyword}' needs a name (${what}); block ignored`);
      return null;
    }
    return st.args[0]!.text;
  }

  private weight(s: Stmt, limit: number): { weight: number; reverse: boolean } | null {
    const w = s.args[0]?.text;
    if (w === undefined) {
      this.err(s, `'weight' needs a number -${limit}..${limit}`);
      return null;
    }
    const n = parseIntStrict(w);
    if (n === null || n < -limit || n > limit) {
      this.err(s, `'weight': '${w}' is not a number in -${limit}..${limit}; ignored`);
      return null;
    }
    let reverse = false;
    for (const extra of s.args.slice(1)) {
      if (extra.text === 'reverse') reverse = true;
      else if (extra.text !== 'noreverse') this.err(extra, `'weight': unknown option '${extra.text}'; ignored`);
    }
    return { weight: n, reverse };
  }

  private vrrpScript(st: Stmt): void {
    const name = this.blockName(st, 'the script name used by track_script');
    const b = this.needBlock(st);
    if (name === null || !b) return;
    if (this.cfg.scripts.some((s) => s.name === name)) {
      this.err(st, `vrrp_script ${name} is already defined; this one is ignored`);
      return;
    }
    const sc: VrrpScript = {
      name,
      script: '',
      argv: [],
      interval: 1,
      timeout: -1,
      weight: 0,
      weightReverse: false,
      rise: 1,
      fall: 1,
      user: null,
      group: null,
      initFail: false,
      src: pos(st),
    };
    for (const s of b) {
      this.noBlock(s);
      switch (s.keyword) {
        case 'script':
          if (s.args.length === 0) this.err(s, "'script' needs a command");
          else {
            sc.script = s.args.map((a) => (a.quoted && s.args.length > 1 ? quoteWord(a.text) : a.text)).join(' ');
            sc.argv = s.args.length === 1 ? splitCommand(s.args[0]!.text) : s.args.map((a) => a.text);
          }
          break;
        case 'interval': {
          const v = this.num(s, 0.000001, 86400 * 365);
          if (v !== null) sc.interval = v;
          break;
        }
        case 'timeout': {
          const v = this.num(s, 0.000001, 86400 * 365);
          if (v !== null) sc.timeout = v;
          break;
        }
        case 'weight': {
          const w = this.weight(s, 253);
          if (w) {
            sc.weight = w.weight;
            sc.weightReverse = w.reverse;
          }
          break;
        }
        case 'rise': {
          const v = this.int(s, 1, 2 ** 31 - 1, 'a count >= 1');
          if (v !== null) sc.rise = v;
          break;
        }
        case 'fall': {
          const v = this.int(s, 1, 2 ** 31 - 1, 'a count >= 1');
          if (v !== null) sc.fall = v;
          break;
        }
        case 'user':
          if (s.args.length === 0) this.err(s, "'user' needs a user name");
          else {
            sc.user = s.args[0]!.text;
            sc.group = s.args[1]?.text ?? null;
          }
          break;
        case 'init_fail':
          sc.initFail = true;
          break;
        default:
          this.unknown(s, `vrrp_script ${name}`);
      }
    }
    if (sc.timeout < 0) sc.timeout = sc.interval;
    if (sc.script === '') {
      this.err(st, `vrrp_script ${name} has no 'script'; removed`);
      return;
    }
    this.cfg.scripts.push(sc);
  }

  private trackFileDef(st: Stmt): void {
    const name = this.blockName(st, 'the name used by track_file in instances');
    const b = this.needBlock(st);
    if (name === null || !b) return;
    if (st.keyword === 'vrrp_track_file') this.note(st, "'vrrp_track_file' is a deprecated name for 'track_file'");
    if (this.cfg.trackFiles.some((s) => s.name === name)) {
      this.err(st, `track_file ${name} is already defined; this one is ignored`);
      return;
    }
    const tf: TrackFile = { name, file: '', weight: 1, weightReverse: false, initFile: null, src: pos(st) };
    for (const s of b) {
      this.noBlock(s);
      switch (s.keyword) {
        case 'file':
          tf.file = this.str(s, 'a file path') ?? '';
          break;
        case 'weight': {
          const w = this.weight(s, 254);
          if (w) {
            tf.weight = w.weight;
            tf.weightReverse = w.reverse;
          }
          break;
        }
        case 'init_file': {
          let value = 0;
          let overwrite = false;
          for (const a of s.args) {
            if (a.text === 'overwrite') overwrite = true;
            else {
              const n = parseIntStrict(a.text);
              if (n === null) this.err(a, `'init_file': '${a.text}' is not a number; ignored`);
              else value = n;
            }
          }
          tf.initFile = { value, overwrite };
          break;
        }
        default:
          this.unknown(s, `track_file ${name}`);
      }
    }
    if (tf.file === '') {
      this.err(st, `track_file ${name} has no 'file'; removed`);
      return;
    }
    this.cfg.trackFiles.push(tf);
  }

  private trackProcessDef(st: Stmt): void {
    const name = this.blockName(st, 'the name used by track_process in instances');
    const b = this.needBlock(st);
    if (name === null || !b) return;
    if (this.cfg.trackProcesses.some((s) => s.name === name)) {
      this.err(st, `vrrp_track_process ${name} is already defined; this one is ignored`);
      return;
    }
    const tp: TrackProcess = {
      name,
      process: '',
      args: null,
      paramMatch: 'exact',
      weight: 0,
      weightReverse: false,
      quorum: 1,
      quorumMax: null,
      delay: 0,
      forkDelay: 0,
      terminateDelay: 0,
      fullCommand: false,
      src: pos(st),
    };
    for (const s of b) {
      this.noBlock(s);
      switch (s.keyword) {
        case 'process':
          if (s.args.length === 0) this.err(s, "'process' needs a process name");
          else {
            tp.process = s.args[0]!.text;
            tp.args = s.args.length > 1 ? s.args.slice(1).map((a) => a.text) : null;
          }
          break;
        case 'param_match': {
          const v = this.str(s, 'exact, partial or initial');
          if (v === 'exact' || v === 'partial' || v === 'initial') tp.paramMatch = v;
          else if (v !== null) this.err(s, `'param_match': expected exact, partial or initial, got '${v}'`);
          break;
        }
        case 'weight': {
          const w = this.weight(s, 254);
          if (w) {
            tp.weight = w.weight;
            tp.weightReverse = w.reverse;
          }
          break;
        }
        case 'quorum': {
          const v = this.int(s, 1, 65535);
          if (v !== null) tp.quorum = v;
          break;
        }
        case 'quorum_max': {
          const v = this.int(s, 0, 65535);
          if (v !== null) tp.quorumMax = v;
          break;
        }
        case 'delay': {
          const v = this.num(s, 0, 3600);
          if (v !== null) tp.delay = tp.forkDelay = tp.terminateDelay = v;
          break;
        }
        case 'fork_delay': {
          const v = this.num(s, 0, 3600);
          if (v !== null) tp.forkDelay = v;
          break;
        }
        case 'terminate_delay': {
          const v = this.num(s, 0, 3600);
          if (v !== null) tp.terminateDelay = v;
          break;
        }
        case 'full_command':
          tp.fullCommand = true;
          break;
        default:
          this.unknown(s, `vrrp_track_process ${name}`);
      }
    }
    if (tp.process === '') {
      this.err(st, `vrrp_track_process ${name} has no 'process'; removed`);
      return;
    }
    // Parameters mean the whole command line is matched (keepalived sets full_command with them).
    if (tp.args !== null) tp.fullCommand = true;
    if (tp.quorumMax !== null && tp.quorumMax < tp.quorum) {
      this.err(st, `vrrp_track_process ${name}: quorum_max ${tp.quorumMax} is below quorum ${tp.quorum}; quorum_max ignored`);
      tp.quorumMax = null;
    }
    this.cfg.trackProcesses.push(tp);
  }

  // ---- addresses and routes ----------------------------------------------------------------------------------
  /** One address line (`virtual_ipaddress` syntax). Pushes onto `list` when valid. */
  private address(s: Stmt, list: VirtualAddress[], where: string): VirtualAddress | null {
    this.noBlock(s);
    const words = [s.key, ...s.args];
    const first = words[0]!.text;
    const slash = first.indexOf('/');
    const addrText = slash >= 0 ? first.slice(0, slash) : first;
    const ip = parseIp(addrText);
    if (!ip || ip.address.includes('%')) {
      this.err(s, `${where}: '${first}' is not a valid IP address; skipped`);
      return null;
    }
    const max = ip.family === 4 ? 32 : 128;
    let prefix = max;
    if (slash >= 0) {
      const p = parseIntStrict(first.slice(slash + 1));
      if (p === null || p < 0 || p > max) {
        this.err(s, `${where}: invalid prefix length '${first.slice(slash + 1)}' for ${addrText} (0-${max}); using ${max}`);
      } else prefix = p;
    }
    const va: VirtualAddress = {
      address: ip.address,
      prefix,
      family: ip.family,
      text: `${ip.address}/${prefix}`,
      dev: null,
      brd: null,
      scope: null,
      label: null,
      peer: null,
      useVmac: false,
      home: false,
      nodad: ip.family === 6,
      mngtmpaddr: false,
      noprefixroute: false,
      autojoin: false,
      noTrack: false,
      preferredLft: null,
      src: pos(s),
    };
    for (let i = 1; i < words.length; i++) {
      const w = words[i]!;
      const next = (): string | null => {
        const v = words[i + 1];
        if (!v) {
          this.err(w, `${where}: '${w.text}' needs a value; ignored`);
          return null;
        }
        i++;
        return v.text;
      };
      switch (w.text) {
        case 'dev': {
          const v = next();
          if (v !== null) {
            if (v.length > 15) this.err(w, `${where}: interface name '${v}' is longer than 15 characters; ignored`);
            else va.dev = v;
          }
          break;
        }
        case 'brd':
        case 'broadcast': {
          const v = next();
          if (v === null) break;
          if (ip.family === 6) {
            this.err(w, `${where}: 'brd' is for IPv4 addresses only; ignored`);
          } else if ((v === '+' || v === '-') && prefix === 32) {
            this.err(w, `${where}: 'brd ${v}' needs a prefix shorter than /32 (${first}); ignored`);
          } else if (v === '+' || v === '-' || parseIp(v)?.family === 4) va.brd = v;
          else this.err(w, `${where}: invalid broadcast address '${v}' (an IPv4 address, + or -); ignored`);
          break;
        }
        case 'scope': {
          const v = next();
          if (v === null) break;
          const n = parseIntStrict(v);
          const named: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
          if (['host', 'link', 'site', 'global', 'nowhere'].includes(v)) va.scope = v;
          else if (n !== null && n >= 0 && n <= 255) va.scope = named[n] ?? String(n);
          else this.err(w, `${where}: invalid scope '${v}' (host, link, site, global, nowhere or 0-255); ignored`);
          break;
        }
        case 'label': {
          const v = next();
          if (v === null) break;
          if (ip.family === 6) this.err(w, `${where}: 'label' is for IPv4 addresses only; ignored`);
          else if (v.length > 15) this.err(w, `${where}: label '${v}' is longer than 15 characters; ignored`);
          else va.label = v;
          break;
        }
        case 'peer': {
          const v = next();
          if (v === null) break;
          const pip = parseIp(v);
          if (!pip || pip.family !== ip.family) this.err(w, `${where}: invalid peer address '${v}' (an IPv${ip.family} address without prefix); ignored`);
          else va.peer = pip.address;
          break;
        }
        case 'use_vmac':
          va.useVmac = true;
          break;
        case 'home':
        case 'mngtmpaddr':
        case 'noprefixroute':
        case 'autojoin':
        case 'nodad':
        case '-nodad':
          if (ip.family !== 6 && w.text !== 'noprefixroute') {
            this.err(w, `${where}: '${w.text}' is for IPv6 addresses only; ignored`);
            break;
          }
          if (w.text === 'home') va.home = true;
          else if (w.text === 'mngtmpaddr') va.mngtmpaddr = true;
          else if (w.text === 'noprefixroute') va.noprefixroute = true;
          else if (w.text === 'autojoin') va.autojoin = true;
          else if (w.text === 'nodad') va.nodad = true;
          else va.nodad = false;
          break;
        case 'no_track':
          va.noTrack = true;
          break;
        case 'track':
          va.noTrack = false;
          break;
        case 'preferred_lft': {
          const v = next();
          if (v === null) break;
          if (v === 'forever') va.preferredLft = 'forever';
          else {
            const n = parseIntStrict(v);
            if (n === null || n < 0 || n > 0xffffffff) this.err(w, `${where}: invalid preferred_lft '${v}' (seconds or forever); ignored`);
            else va.preferredLft = n;
          }
          break;
        }
        default:
          this.err(w, `${where}: unknown option '${w.text}' for address ${first}; ignored`);
      }
    }
    if (va.family === 6 && va.prefix === 128 && va.preferredLft === null) va.preferredLft = 0;
    const dup = list.find((o) => o.address === va.address && (o.dev ?? '') === (va.dev ?? ''));
    if (dup) {
      this.warn(s, `${where}: ${va.address} is already listed at line ${dup.src.line}; this one is ignored`);
      return null;
    }
    list.push(va);
    return va;
  }

  private route(s: Stmt, isRule: boolean): VirtualRoute {
    this.noBlock(s);
    const words = [s.key, ...s.args].map((t) => t.text);
    const r: VirtualRoute = { text: words.join(' '), dest: null, family: null, dev: null, table: null, noTrack: false, src: pos(s) };
    const what = isRule ? 'virtual_rules' : 'virtual_routes';
    const bad = (msg: string): void => this.err(s, `${what}: ${msg}`);
    const addr = (kw: string, v: string | undefined, allowAll = false): void => {
      const fam = this.prefixFamily(v);
      if (v === undefined || (fam === null && !(allowAll && (v === 'all' || v === 'default')))) bad(`invalid address '${v ?? ''}' after '${kw}'`);
      else if (fam !== null && r.family === null) r.family = fam;
    };
    if (isRule) {
      let action = false;
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        const v = words[i + 1];
        if (RULE_FLAGS.has(w)) {
          if (w === 'no_track') r.noTrack = true;
          if (w === 'l3mdev') action = true;
          continue;
        }
        if (RULE_TYPES.has(w)) {
          action = true;
          continue;
        }
        if (!RULE_KV.has(w)) {
          bad(`unknown rule option '${w}'`);
          continue;
        }
        i++;
        if (v === undefined) {
          bad(`'${w}' needs a value`);
          continue;
        }
        if (w === 'from' || w === 'to') {
          addr(w, v, true);
          if (w === 'to' || r.dest === null) r.dest = v;
        } else if (w === 'table' || w === 'lookup') {
          r.table = v;
          action = true;
        } else if (w === 'goto') action = true;
        else if (w === 'iif' || w === 'oif') r.dev = v;
        else if (w === 'priority' || w === 'preference') {
          if (parseIntStrict(v) === null) bad(`invalid rule priority '${v}'`);
        }
      }
      if (!action) bad(`rule '${r.text}' has no action (table, goto or a rule type); ignored`);
      if (!words.some((w) => w === 'priority' || w === 'preference')) {
        bad(`rule '${r.text}' has no 'priority'; the kernel would pick one, which is probably not what you want`);
      }
      return r;
    }
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w === 'no_track') {
        r.noTrack = true;
        continue;
      }
      if (ROUTE_FLAGS.has(w) || ROUTE_TYPES.has(w)) continue;
      if (w === 'nexthop') {
        // nexthop via ADDR [dev IF] [weight N] [onlink]: up to the next 'nexthop'
        while (i + 1 < words.length && words[i + 1] !== 'nexthop') {
          const k = words[++i]!;
          if (k === 'onlink') continue;
          const v = words[++i];
          if (k === 'via') addr(k, v);
          else if (k !== 'dev' && k !== 'weight' && k !== 'encap') bad(`unknown nexthop option '${k}'`);
          if (v === undefined) bad(`'${k}' needs a value`);
        }
        continue;
      }
      if (ROUTE_KV.has(w)) {
        let v = words[++i];
        if (v === 'lock') v = words[++i];
        if (v === undefined) {
          bad(`'${w}' needs a value`);
          continue;
        }
        if (w === 'dev' || w === 'oif') r.dev = v;
        else if (w === 'table') r.table = v;
        else if (w === 'src' || w === 'via' || w === 'gw' || w === 'or') {
          if (!(w === 'via' && /^inet6?$/.test(v))) addr(w, v);
          else addr(w, words[++i]);
        } else if (w === 'to') {
          r.dest = v;
          addr(w, v, true);
        }
        continue;
      }
      if (r.dest === null && (w === 'default' || this.prefixFamily(w) !== null)) {
        r.dest = w;
        if (w !== 'default') r.family = r.family ?? this.prefixFamily(w);
        continue;
      }
      bad(r.dest === null && /^[\d.:a-fA-F/]+$/.test(w) ? `invalid destination '${w}'` : `unknown route keyword '${w}'`);
    }
    if (r.dest === null) bad(`no destination in '${r.text}'`);
    else if (r.dev === null && !r.noTrack) {
      bad(`route ${r.dest} has no 'dev', so it cannot be tracked (keepalived reports this too); add 'dev IF' or 'no_track'`);
    }
    return r;
  }

  private prefixFamily(v: string | undefined): Family | null {
    if (v === undefined) return null;
    const slash = v.indexOf('/');
    const ip = parseIp(slash >= 0 ? v.slice(0, slash) : v);
    if (!ip) return null;
    if (slash >= 0) {
      const p = parseIntStrict(v.slice(slash + 1));
      if (p === null || p < 0 || p > (ip.family === 4 ? 32 : 128)) return null;
    }
    return ip.family;
  }

  // ---- notify, tracking --------------------------------------------------------------------------------------
  private notifyScript(s: Stmt): NotifyScript | null {
    this.noBlock(s);
    if (s.args.length === 0) {
      this.err(s, `'${s.keyword}' needs a script`);
      return null;
    }
    const cmd = s.args[0]!.text;
    const user = s.args[1]?.text ?? null;
    let group = s.args[2]?.text ?? null;
    let u = user;
    if (u !== null && u.includes(':')) {
      const [uu, gg] = u.split(':', 2) as [string, string];
      u = uu;
      group = gg || group;
    }
    if (s.args.length > 3) this.warn(s, `'${s.keyword}': extra words after 'script [user [group]]' ignored`);
    return { command: cmd, argv: splitCommand(cmd), user: u, group, src: pos(s) };
  }

  private setNotify(n: NotifyScripts, s: Stmt): boolean {
    const key: Record<string, keyof NotifyScripts> = {
      notify_master: 'master',
      notify_backup: 'backup',
      notify_fault: 'fault',
      notify_stop: 'stop',
      notify_deleted: 'deleted',
      notify_master_rx_lower_pri: 'masterRxLowerPri',
      notify: 'any',
    };
    const k = key[s.keyword];
    if (!k) return false;
    const ns = this.notifyScript(s);
    if (ns) n[k] = ns;
    return true;
  }

  /** Entries of a track_* block: `NAME [weight N [reverse]] [reverse]`. */
  private trackRefs(st: Stmt, limit: number, kind: string): TrackRef[] {
    const b = this.needBlock(st);
    if (!b) return [];
    const out: TrackRef[] = [];
    for (const s of b) {
      this.noBlock(s);
      const ref: TrackRef = { name: s.keyword, weight: 0, weightGiven: false, reverse: false, src: pos(s) };
      let bad = false;
      let reverseGiven = false;
      for (let i = 0; i < s.args.length; i++) {
        const w = s.args[i]!.text;
        if (w === 'weight') {
          const v = s.args[i + 1]?.text;
          const n = v === undefined ? null : parseIntStrict(v);
          if (n === null || n < -limit || n > limit) {
            this.err(s, `${kind} ${s.keyword}: weight '${v ?? ''}' is not a number in -${limit}..${limit}; entry ignored`);
            bad = true;
            break;
          }
          ref.weight = n;
          ref.weightGiven = true;
          i++;
        } else if (w === 'reverse') {
          ref.reverse = true;
          reverseGiven = true;
        } else if (w === 'noreverse') {
          ref.reverse = false;
          reverseGiven = true;
        }
        else {
          this.err(s, `${kind} ${s.keyword}: unknown option '${w}'; ignored`);
        }
      }
      if (!bad && out.some((o) => o.name === ref.name)) {
        this.err(s, `${kind}: ${ref.name} is listed twice; the second is ignored`);
        continue;
      }
      if (!bad) {
        if (!reverseGiven) this.reverseUnset.add(ref);
        out.push(ref);
      }
    }
    return out;
  }

  // ---- vrrp_instance -----------------------------------------------------------------------------------------
  private instance(st: Stmt): void {
    if (st.args.length === 0) {
      this.err(st, 'vrrp_instance needs a name; block ignored');
      return;
    }
    const name = st.args[0]!.text;
    if (st.args.length > 1) this.warn(st, `vrrp_instance ${name}: extra words after the name ignored`);
    const b = this.needBlock(st);
    if (!b) return;
    if (this.draftNames.has(name)) {
      this.err(st, `vrrp_instance ${name} is already defined; this one is ignored`);
      return;
    }
    const inst: VrrpInstance = {
      name,
      interface: null,
      virtualRouterId: 0,
      priority: 100,
      advertInterval: 1,
      advertIntervalCs: 100,
      version: 2,
      family: 4,
      state: 'BACKUP',
      preempt: true,
      preemptDelay: 0,
      useVmac: false,
      vmacAddress: null,
      vmacXmitBase: false,
      vips: [],
      vipsExcluded: [],
      virtualRoutes: [],
      virtualRules: [],
      unicastPeers: [],
      unicastSrcIp: null,
      mcastSrcIp: null,
      mcastDstIp: null,
      unicastTtl: 255,
      unicastFaultNoPeer: false,
      checkUnicastSrc: false,
      auth: null,
      trackScripts: [],
      trackInterfaces: [],
      trackFiles: [],
      trackProcesses: [],
      dontTrackPrimary: false,
      accept: true,
      garp: defaultGarp(),
      lowerPrioNoAdvert: false,
      higherPrioSendAdvert: false,
      ownerIgnoreAdverts: false,
      downTimerAdverts: 3,
      timerExpiredBackup: false,
      v3ChecksumAsV2: false,
      skipCheckAdvAddr: false,
      strict: false,
      promoteSecondaries: false,
      notifyPriorityChanges: false,
      smtpAlert: false,
      notify: emptyNotify(),
      syncGroup: null,
      src: pos(st),
    };
    const d: Draft = {
      inst,
      hasVrid: false,
      given: {
        priority: false,
        state: false,
        version: false,
        advertInt: null,
        advertStmt: null,
        nopreempt: null,
        preemptDelay: null,
        accept: null,
        auth: null,
        xmitBase: null,
        downTimer: null,
        strict: null,
        garp: {},
        lowerPrioNoAdvert: null,
        higherPrioSendAdvert: null,
        ownerIgnoreAdverts: null,
        v3ChecksumAsV2: null,
        skipCheckAdvAddr: null,
        checkUnicastSrc: null,
        notifyPriorityChanges: null,
        vipStmts: [],
        trackScriptStmts: [],
        trackFileStmts: [],
        trackProcessStmts: [],
      },
    };
    const where = `vrrp_instance ${name}`;
    const blockKeys = new Set([
      'virtual_ipaddress',
      'virtual_ipaddress_excluded',
      'virtual_routes',
      'virtual_rules',
      'unicast_peer',
      'authentication',
      'track_interface',
      'track_script',
      'track_file',
      'track_process',
      'track_bfd',
      'auth_hmac',
    ]);
    for (const s of b) {
      if (!blockKeys.has(s.keyword)) this.noBlock(s);
      const g = d.given;
      switch (s.keyword) {
        case 'state': {
          const v = this.str(s, 'MASTER or BACKUP');
          if (v === 'MASTER' || v === 'BACKUP') {
            inst.state = v;
            g.state = true;
          } else if (v !== null) this.err(s, `${where}: unknown state '${v}' (MASTER or BACKUP); using BACKUP`);
          break;
        }
        case 'interface': {
          const v = this.str(s, 'an interface name');
          if (v !== null) {
            if (v.length > 15 || v.includes('/')) this.err(s, `${where}: '${v}' is not a valid interface name; ignored`);
            else inst.interface = v;
          }
          break;
        }
        case 'virtual_router_id': {
          const v = this.int(s, 1, 255);
          if (v !== null) {
            inst.virtualRouterId = v;
            d.hasVrid = true;
          }
          break;
        }
        case 'priority': {
          const v = this.int(s, 1, 255);
          if (v !== null) {
            inst.priority = v;
            g.priority = true;
          } else this.note(s, `${where}: priority stays at the default 100`);
          break;
        }
        case 'advert_int': {
          const v = this.num(s, 0.01, 255);
          if (v !== null) {
            g.advertInt = v;
            g.advertStmt = s;
          }
          break;
        }
        case 'version': {
          const v = this.int(s, 2, 3);
          if (v !== null) {
            inst.version = v as 2 | 3;
            g.version = true;
          }
          break;
        }
        case 'virtual_ipaddress': {
          const blk = this.needBlock(s);
          if (blk) for (const a of blk) {
            const va = this.address(a, inst.vips, `${where} virtual_ipaddress`);
            if (va) g.vipStmts.push({ addr: va, st: a });
          }
          break;
        }
        case 'virtual_ipaddress_excluded': {
          const blk = this.needBlock(s);
          if (blk) for (const a of blk) this.address(a, inst.vipsExcluded, `${where} virtual_ipaddress_excluded`);
          break;
        }
        case 'virtual_routes': {
          const blk = this.needBlock(s);
          if (blk) for (const a of blk) inst.virtualRoutes.push(this.route(a, false));
          break;
        }
        case 'virtual_rules': {
          const blk = this.needBlock(s);
          if (blk) for (const a of blk) inst.virtualRules.push(this.route(a, true));
          break;
        }
        case 'use_vmac': {
          let ifname: string | null = null;
          for (const a of s.args) {
            const mac = parseMac(a.text);
            if (mac) {
              if (mac.length === 5) mac.push(0);
              if ((mac[0]! & 1) !== 0) this.err(a, `${where}: use_vmac MAC ${a.text} is a multicast address; ignored`);
              else inst.vmacAddress = a.text.toLowerCase();
            } else if (a.text === 'netlink_notify_msg' || a.text === 'group') {
              break;
            } else if (ifname === null) {
              if (a.text.length > 15) this.err(a, `${where}: VMAC name '${a.text}' is longer than 15 characters; ignored`);
              else ifname = a.text;
            }
          }
          inst.useVmac = ifname ?? '';
          break;
        }
        case 'vmac_xmit_base':
          inst.vmacXmitBase = true;
          g.xmitBase = s;
          break;
        case 'mcast_src_ip':
        case 'unicast_src_ip': {
          const v = this.str(s, 'an IP address');
          if (v === null) break;
          const ip = parseIp(v);
          if (!ip) this.err(s, `${where}: '${s.keyword}' ${v} is not a valid IP address; ignored`);
          else if (s.keyword === 'mcast_src_ip') inst.mcastSrcIp = ip.address;
          else inst.unicastSrcIp = ip.address;
          break;
        }
        case 'mcast_dst_ip': {
          const v = this.str(s, 'a multicast address');
          const ip = v === null ? null : parseIp(v);
          if (v !== null && (!ip || !isMulticast(ip.address))) this.err(s, `${where}: mcast_dst_ip '${v}' is not a multicast address; ignored`);
          else if (ip) inst.mcastDstIp = ip.address;
          break;
        }
        case 'unicast_peer': {
          const blk = this.needBlock(s);
          if (blk) for (const p of blk) this.unicastPeer(p, inst, where);
          break;
        }
        case 'unicast_ttl': {
          const v = this.int(s, 1, 255);
          if (v !== null) inst.unicastTtl = v;
          break;
        }
        case 'unicast_fault_no_peer':
          inst.unicastFaultNoPeer = true;
          break;
        case 'check_unicast_src':
          g.checkUnicastSrc = this.bool(s);
          break;
        case 'authentication':
          g.auth = s;
          inst.auth = this.authentication(s, where);
          break;
        case 'track_interface':
          inst.trackInterfaces.push(...this.trackRefs(s, 253, `${where} track_interface`));
          break;
        case 'track_script':
          g.trackScriptStmts.push(s);
          break;
        case 'track_file':
          g.trackFileStmts.push(s);
          break;
        case 'track_process':
          g.trackProcessStmts.push(s);
          break;
        case 'dont_track_primary':
          inst.dontTrackPrimary = true;
          break;
        case 'nopreempt':
          g.nopreempt = s;
          inst.preempt = false;
          break;
        case 'preempt':
          inst.preempt = true;
          g.nopreempt = null;
          break;
        case 'preempt_delay': {
          const v = this.num(s, 0, 1000);
          if (v !== null) {
            inst.preemptDelay = v;
            g.preemptDelay = s;
          }
          break;
        }
        case 'accept':
          inst.accept = true;
          g.accept = s;
          break;
        case 'no_accept':
          inst.accept = false;
          g.accept = s;
          break;
        case 'strict_mode':
          g.strict = this.bool(s);
          break;
        case 'skip_check_adv_addr':
          g.skipCheckAdvAddr = this.bool(s);
          break;
        case 'garp_master_delay':
        case 'garp_master_repeat':
        case 'garp_master_refresh':
        case 'garp_master_refresh_repeat':
        case 'garp_lower_prio_delay':
        case 'garp_lower_prio_repeat': {
          const isDelay = s.keyword.endsWith('delay') || s.keyword === 'garp_master_refresh';
          const v = this.int(s, 0, isDelay ? 86400 : 10000);
          if (v === null) break;
          const map: Record<string, keyof GarpSettings> = {
            garp_master_delay: 'masterDelay',
            garp_master_repeat: 'masterRepeat',
            garp_master_refresh: 'masterRefresh',
            garp_master_refresh_repeat: 'masterRefreshRepeat',
            garp_lower_prio_delay: 'lowerPrioDelay',
            garp_lower_prio_repeat: 'lowerPrioRepeat',
          };
          (g.garp as Record<string, number>)[map[s.keyword]!] = v;
          break;
        }
        case 'garp_extra_if': {
          const e = this.extraIf(s);
          if (e) g.garp.extraIf = e;
          break;
        }
        case 'lower_prio_no_advert':
          g.lowerPrioNoAdvert = this.bool(s);
          break;
        case 'higher_prio_send_advert':
          g.higherPrioSendAdvert = this.bool(s);
          break;
        case 'owner_ignore_adverts':
          g.ownerIgnoreAdverts = this.bool(s);
          break;
        case 'down_timer_adverts': {
          const v = this.int(s, 1, 100);
          if (v !== null) {
            inst.downTimerAdverts = v;
            g.downTimer = s;
          }
          break;
        }
        case 'timer_expired_backup':
          inst.timerExpiredBackup = true;
          break;
        case 'v3_checksum_as_v2':
          g.v3ChecksumAsV2 = this.bool(s);
          break;
        case 'promote_secondaries':
          inst.promoteSecondaries = true;
          break;
        case 'notify_priority_changes':
          g.notifyPriorityChanges = this.bool(s);
          break;
        case 'smtp_alert':
          inst.smtpAlert = this.bool(s);
          break;
        case 'track_bfd':
        case 'auth_hmac':
          this.note(s, `${where}: '${s.keyword}' is not supported by vipd; ignored`);
          break;
        default:
          if (this.setNotify(inst.notify, s)) break;
          if (INSTANCE_IGNORED.has(s.keyword)) {
            this.note(s, `${where}: '${s.keyword}' has no effect in vipd; ignored`);
            break;
          }
          this.unknown(s, where);
      }
    }
    this.drafts.push(d);
    this.draftNames.add(name);
  }

  private unicastPeer(p: Stmt, inst: VrrpInstance, where: string): void {
    this.noBlock(p);
    const ip = parseIp(p.keyword);
    if (!ip) {
      this.err(p, `${where} unicast_peer: '${p.keyword}' is not a valid IP address; skipped`);
      return;
    }
    const peer: UnicastPeer = { address: ip.address, family: ip.family, minTtl: null, maxTtl: null, src: pos(p) };
    for (let i = 0; i < p.args.length; i++) {
      const w = p.args[i]!.text;
      if (w === 'min_ttl' || w === 'max_ttl') {
        const v = p.args[i + 1]?.text;
        const n = v === undefined ? null : parseIntStrict(v);
        if (n === null || n < 0 || n > 255) this.err(p, `${where} unicast_peer ${p.keyword}: ${w} '${v ?? ''}' is not 0-255; ignored`);
        else if (w === 'min_ttl') peer.minTtl = n;
        else peer.maxTtl = n;
        i++;
      } else this.err(p, `${where} unicast_peer ${p.keyword}: unknown option '${w}'; ignored`);
    }
    if (inst.unicastPeers.some((q) => q.address === peer.address)) {
      this.warn(p, `${where} unicast_peer: ${peer.address} is listed twice`);
      return;
    }
    inst.unicastPeers.push(peer);
  }

  private authentication(s: Stmt, where: string): Authentication | null {
    const b = this.needBlock(s);
    if (!b) return null;
    let type: 'PASS' | 'AH' | null = null;
    let pass: string | null = null;
    for (const a of b) {
      this.noBlock(a);
      if (a.keyword === 'auth_type') {
        const v = this.str(a, 'PASS or AH');
        if (v === 'PASS' || v === 'AH') type = v;
        else if (v !== null) this.err(a, `${where}: unknown auth_type '${v}' (PASS or AH); authentication ignored`);
      } else if (a.keyword === 'auth_pass') {
        const v = this.str(a, 'a password of up to 8 characters');
        if (v !== null) {
          if (Buffer.byteLength(v) > 8) {
            this.err(a, `${where}: auth_pass is longer than 8 characters; truncated to 8 as keepalived does`);
            pass = Buffer.from(v).subarray(0, 8).toString();
          } else pass = v;
        }
      } else this.unknown(a, `${where} authentication`);
    }
    if (type === null) {
      this.err(s, `${where}: authentication without a valid auth_type; ignored`);
      return null;
    }
    if (pass === null) {
      this.err(s, `${where}: authentication without auth_pass; ignored`);
      return null;
    }
    return { type, pass, src: pos(s) };
  }

  // ---- vrrp_sync_group ---------------------------------------------------------------------------------------
  private syncGroup(st: Stmt): void {
    const name = this.blockName(st, 'the group name');
    const b = this.needBlock(st);
    if (name === null || !b) return;
    if (this.groupDrafts.some((g) => g.group.name === name)) {
      this.err(st, `vrrp_sync_group ${name} is already defined; this one is ignored`);
      return;
    }
    const where = `vrrp_sync_group ${name}`;
    const group: SyncGroup = {
      name,
      instances: [],
      trackScripts: [],
      trackInterfaces: [],
      trackFiles: [],
      trackProcesses: [],
      notify: emptyNotify(),
      smtpAlert: false,
      syncGroupTrackingWeight: false,
      src: pos(st),
    };
    const gd: GroupDraft = { group, members: [] };
    let sawGroup = false;
    for (const s of b) {
      const blockKeys = new Set(['group', 'track_interface', 'track_script', 'track_file', 'track_process', 'track_bfd']);
      if (!blockKeys.has(s.keyword)) this.noBlock(s);
      switch (s.keyword) {
        case 'group': {
          sawGroup = true;
          const blk = this.needBlock(s);
          if (blk) for (const m of blk) gd.members.push(m.key, ...m.args);
          break;
        }
        case 'track_interface':
          group.trackInterfaces.push(...this.trackRefs(s, 253, `${where} track_interface`));
          break;
        case 'track_script':
          group.trackScripts.push(...this.resolveRefs(this.trackRefs(s, 253, `${where} track_script`), 'script', where));
          break;
        case 'track_file':
          group.trackFiles.push(...this.resolveRefs(this.trackRefs(s, 254, `${where} track_file`), 'file', where));
          break;
        case 'track_process':
          group.trackProcesses.push(...this.resolveRefs(this.trackRefs(s, 254, `${where} track_process`), 'process', where));
          break;
        case 'smtp_alert':
          group.smtpAlert = this.bool(s);
          break;
        case 'sync_group_tracking_weight':
          group.syncGroupTrackingWeight = true;
          break;
        case 'global_tracking':
          this.note(s, `${where}: 'global_tracking' is deprecated; use sync_group_tracking_weight`);
          group.syncGroupTrackingWeight = true;
          break;
        case 'track_bfd':
          this.note(s, `${where}: 'track_bfd' is not supported by vipd; ignored`);
          break;
        default:
          // keepalived has no notify_deleted / notify_master_rx_lower_pri for groups.
          if (s.keyword === 'notify_deleted' || s.keyword === 'notify_master_rx_lower_pri' || !this.setNotify(group.notify, s)) this.unknown(s, where);
      }
    }
    if (!sawGroup) this.err(st, `${where} has no 'group { ... }' of instances`);
    this.groupDrafts.push(gd);
  }

  /** Resolve track_script/file/process references against the definitions; unknown ones are dropped. */
  private resolveRefs(refs: TrackRef[], kind: 'script' | 'file' | 'process', where: string): TrackRef[] {
    const out: TrackRef[] = [];
    for (const r of refs) {
      const def =
        kind === 'script'
          ? this.cfg.scripts.find((s) => s.name === r.name)
          : kind === 'file'
            ? this.cfg.trackFiles.find((s) => s.name === r.name)
            : this.cfg.trackProcesses.find((s) => s.name === r.name);
      if (!def) {
        const decl = kind === 'script' ? 'vrrp_script' : kind === 'file' ? 'track_file' : 'vrrp_track_process';
        this.err(r.src, `${where}: track_${kind} '${r.name}' is not defined (no ${decl} ${r.name}); ignored`);
        continue;
      }
      if (!r.weightGiven) r.weight = def.weight;
      // Without reverse/noreverse of its own, a reference takes the tracker's (keepalived).
      if (this.reverseUnset.has(r)) r.reverse = def.weightReverse;
      out.push(r);
    }
    return out;
  }

  // ---- validation across the whole file (keepalived's vrrp_validate_config) ---------------------------------
  private finish(): void {
    const g = this.cfg.global;
    // The lower-priority GARP settings default to the (global) master ones; instances inherit the globals.
    if (!this.garpLowerPrioDelayGiven) g.garp.lowerPrioDelay = g.garp.masterDelay;
    if (!this.garpLowerPrioRepeatGiven) g.garp.lowerPrioRepeat = g.garp.masterRepeat;
    if (g.minGarp) {
      // vrrp_min_garp: one GARP per address on becoming master, none later.
      Object.assign(g.garp, { masterDelay: 0, masterRepeat: 1, masterRefresh: 0, masterRefreshRepeat: 0, lowerPrioDelay: 0, lowerPrioRepeat: 1 });
    }
    const kept: VrrpInstance[] = [];
    const byRouter = new Map<string, VrrpInstance[]>();
    for (const d of this.drafts) {
      const inst = d.inst;
      const where = `vrrp_instance ${inst.name}`;
      const gv = d.given;
      if (!d.hasVrid) {
        this.err(inst.src, `${where}: virtual_router_id is missing (1-255); instance removed`);
        continue;
      }
      // Family: from the first VIP, else unicast peers / source address; VIPs of the other family are dropped.
      // keepalived takes the family from whichever address comes first in the file: a VIP or a unicast peer.
      const firstVip = inst.vips[0];
      const firstPeer = inst.unicastPeers[0];
      const byOrder =
        firstVip && firstPeer ? (before(firstPeer.src, firstVip.src) ? firstPeer.family : firstVip.family) : (firstVip?.family ?? firstPeer?.family);
      inst.family = byOrder ?? (inst.unicastSrcIp && parseIp(inst.unicastSrcIp)?.family) ?? (inst.mcastSrcIp && parseIp(inst.mcastSrcIp)?.family) ?? 4;
      const vips: VirtualAddress[] = [];
      for (const v of inst.vips) {
        if (v.family !== inst.family) {
          this.err(v.src, `${where}: ${v.address} is IPv${v.family} but the instance is IPv${inst.family} (from its first address or unicast peer); use virtual_ipaddress_excluded for the other family; ignored`);
        } else vips.push(v);
      }
      inst.vips = vips;
      const peers: UnicastPeer[] = [];
      for (const p of inst.unicastPeers) {
        if (p.family !== inst.family) this.err(p.src, `${where}: unicast_peer ${p.address} is not IPv${inst.family} like the instance; ignored`);
        else peers.push(p);
      }
      inst.unicastPeers = peers;
      // Version: instance, else global; IPv6 is always VRRPv3.
      if (!gv.version) inst.version = g.vrrpVersion;
      if (inst.family === 6 && inst.version === 2) {
        if (gv.version) this.warn(inst.src, `${where}: VRRPv2 does not support IPv6; using version 3`);
        inst.version = 3;
      }
      // Priority: MASTER without a priority is the address owner; the owner without a state starts as MASTER.
      if (!gv.priority && inst.state === 'MASTER') inst.priority = 255;
      if (!gv.state && inst.priority === 255) inst.state = 'MASTER';
      // Strict mode.
      inst.strict = gv.strict ?? g.strict;
      // Advert interval.
      let adv = gv.advertInt ?? 1;
      const advAt = gv.advertStmt ?? inst.src;
      if (inst.version === 2) {
        if (!Number.isInteger(adv)) {
          const r = Math.max(1, Math.round(adv));
          this.err(advAt, `${where}: VRRPv2 advert_int ${adv} must be a whole number of seconds; rounded to ${r}`);
          adv = r;
        }
      } else {
        if (adv > 40.95) {
          this.err(advAt, `${where}: VRRPv3 advert_int ${adv} is above the maximum 40.95 s; using 40.95`);
          adv = 40.95;
        }
        const cs = adv * 100;
        if (Math.abs(cs - Math.round(cs)) > 1e-6) {
          const r = Math.max(1, Math.round(cs)) / 100;
          this.err(advAt, `${where}: VRRPv3 advert_int ${adv} is not a multiple of 0.01 s; rounded to ${r}`);
          adv = r;
        }
      }
      inst.advertIntervalCs = Math.round(adv * 100);
      inst.advertInterval = inst.advertIntervalCs / 100;
      // nopreempt is meaningless for the owner / an initial MASTER.
      if (!inst.preempt && gv.nopreempt) {
        if (inst.priority === 255 || inst.state === 'MASTER') {
          const why = inst.priority === 255 ? 'priority 255' : 'state MASTER';
          this.err(gv.nopreempt, `${where}: nopreempt is incompatible with ${why}; nopreempt dropped`);
          inst.preempt = true;
        }
      }
      // Authentication is VRRPv2 only.
      if (inst.auth && inst.version === 3) {
        this.err(inst.auth.src, `${where}: VRRPv3 does not support authentication; ignored`);
        inst.auth = null;
      }
      if (inst.auth && inst.auth.type === 'AH' && inst.state === 'MASTER') {
        this.err(inst.auth.src, `${where}: an initial state MASTER is incompatible with AH authentication; using BACKUP`);
        inst.state = 'BACKUP';
      }
      // Unicast forces adverts on the parent of a VMAC.
      if (inst.useVmac !== false) {
        if (inst.useVmac === '') inst.useVmac = `${g.vmacPrefix}.${inst.virtualRouterId}`;
        if (inst.unicastPeers.length > 0 && !inst.vmacXmitBase) {
          this.err(inst.src, `${where}: unicast with use_vmac needs vmac_xmit_base; set (adverts go out on ${inst.interface ?? 'the parent'})`);
          inst.vmacXmitBase = true;
        }
      }
      if (inst.interface === null && inst.unicastPeers.length === 0) {
        this.err(inst.src, `${where}: no 'interface' (needed unless unicast_peer is used); instance removed`);
        continue;
      }
      if (inst.vips.length === 0) {
        this.err(inst.src, `${where}: no virtual_ipaddress; at least one is needed for the instance to be useful`);
      }
      // Per-instance values overriding the globals.
      inst.garp = { ...g.garp, ...gv.garp };
      inst.lowerPrioNoAdvert = gv.lowerPrioNoAdvert ?? g.lowerPrioNoAdvert;
      inst.higherPrioSendAdvert = gv.higherPrioSendAdvert ?? g.higherPrioSendAdvert;
      inst.ownerIgnoreAdverts = gv.ownerIgnoreAdverts ?? g.ownerIgnoreAdverts;
      inst.v3ChecksumAsV2 = gv.v3ChecksumAsV2 ?? g.v3ChecksumAsV2;
      inst.skipCheckAdvAddr = gv.skipCheckAdvAddr ?? g.skipCheckAdvAddr;
      inst.checkUnicastSrc = gv.checkUnicastSrc ?? g.checkUnicastSrc;
      inst.notifyPriorityChanges = gv.notifyPriorityChanges ?? g.notifyPriorityChanges;
      if (!gv.downTimer) inst.downTimerAdverts = g.downTimerAdverts;
      if (inst.strict) this.strictCorrections(d, where);
      // Trackers.
      for (const s of gv.trackScriptStmts) inst.trackScripts.push(...this.resolveRefs(this.trackRefs(s, 253, `${where} track_script`), 'script', where));
      for (const s of gv.trackFileStmts) inst.trackFiles.push(...this.resolveRefs(this.trackRefs(s, 254, `${where} track_file`), 'file', where));
      for (const s of gv.trackProcessStmts) inst.trackProcesses.push(...this.resolveRefs(this.trackRefs(s, 254, `${where} track_process`), 'process', where));
      // Duplicate VRID on one interface and family.
      const rkey = `${inst.virtualRouterId}/${inst.family}/${inst.interface ?? ''}`;
      const sameKey = byRouter.get(rkey) ?? [];
      const clash = sameKey.find((o) => sameRouter(o, inst, g));
      if (clash) {
        this.err(
          inst.src,
          `${where}: ${clash.name} (${clash.src.file}:${clash.src.line}) and ${inst.name} both use VRID ${inst.virtualRouterId} with IPv${inst.family} on ${inst.interface ?? 'unicast'}; ${inst.name} removed`,
        );
        continue;
      }
      kept.push(inst);
      sameKey.push(inst);
      byRouter.set(rkey, sameKey);
    }
    this.cfg.instances = kept;
    this.scriptSecurity();

    // Sync groups.
    const byName = new Map(kept.map((i) => [i.name, i]));
    for (const gd of this.groupDrafts) {
      const grp = gd.group;
      const where = `vrrp_sync_group ${grp.name}`;
      for (const m of gd.members) {
        const inst = byName.get(m.text);
        if (!inst) {
          this.err(m, `${where}: instance ${m.text} does not exist; ignored`);
        } else if (inst.syncGroup !== null && inst.syncGroup !== grp.name) {
          this.err(m, `${where}: instance ${m.text} is already in sync group ${inst.syncGroup}; an instance can be in one group only; ignored`);
        } else if (grp.instances.includes(m.text)) {
          this.warn(m, `${where}: instance ${m.text} is listed twice`);
        } else {
          grp.instances.push(m.text);
          inst.syncGroup = grp.name;
        }
      }
      if (grp.instances.length === 0) {
        this.err(grp.src, `${where} has no valid member instance; removed`);
        continue;
      }
      if (!grp.syncGroupTrackingWeight) this.syncGroupWeights(grp, byName);
      if (grp.instances.length === 1) this.err(grp.src, `${where} has only 1 instance; a sync group of one is probably not what you want (keepalived -t reports it too)`);
      this.cfg.syncGroups.push(grp);
    }
  }

  /**
   * Members of a sync group without `sync_group_tracking_weight` cannot use weighted trackers (keepalived): a
   * tracked interface's weight becomes 0 (its failure faults the group), weighted scripts, files and processes are
   * removed. Each is an error, as keepalived -t reports it.
   */
  private syncGroupWeights(grp: SyncGroup, byName: Map<string, VrrpInstance>): void {
    for (const name of grp.instances) {
      const inst = byName.get(name);
      if (!inst) continue;
      const where = `vrrp_instance ${inst.name}`;
      for (const t of inst.trackInterfaces) {
        if (t.weight !== 0) {
          this.err(t.src, `${where}: tracked interface ${t.name} weight ${t.weight} ignored because the instance is in sync group ${grp.name} (add sync_group_tracking_weight to keep weights)`);
          t.weight = 0;
        }
      }
      const strip = (list: TrackRef[], kind: string): TrackRef[] =>
        list.filter((t) => {
          if (t.weight === 0) return true;
          this.err(t.src, `${where}: ${kind} ${t.name} with weight ${t.weight} ignored because the instance is in sync group ${grp.name} (add sync_group_tracking_weight to keep weights)`);
          return false;
        });
      inst.trackScripts = strip(inst.trackScripts, 'tracked script');
      inst.trackFiles = strip(inst.trackFiles, 'tracked file');
      inst.trackProcesses = strip(inst.trackProcesses, 'tracked process');
    }
  }

  /** keepalived refuses (`-t` exits with its security code) to run scripts without enable_script_security. */
  private scriptSecurity(): void {
    const g = this.cfg.global;
    if (g.enableScriptSecurity) return;
    const first: SourcePos | undefined =
      this.cfg.scripts[0]?.src ??
      this.cfg.instances.flatMap((i) => Object.values(i.notify).filter((n): n is NotifyScript => n !== null))[0]?.src ??
      this.cfg.syncGroups.flatMap((i) => Object.values(i.notify).filter((n): n is NotifyScript => n !== null))[0]?.src;
    if (first) {
      this.warn(first, 'scripts are configured but enable_script_security is not set in global_defs; keepalived -t reports a SECURITY VIOLATION for this');
    }
  }

  private strictCorrections(d: Draft, where: string): void {
    const inst = d.inst;
    const gv = d.given;
    if (inst.state === 'MASTER' && inst.priority !== 255) {
      this.err(inst.src, `${where}: strict mode: state MASTER needs priority 255 (address owner); using BACKUP`);
      inst.state = 'BACKUP';
    }
    if (inst.auth) {
      this.err(inst.auth.src, `${where}: strict mode does not allow authentication; ignored`);
      inst.auth = null;
    }
    if (gv.preemptDelay && inst.preemptDelay !== 0) {
      this.err(gv.preemptDelay, `${where}: strict mode does not allow preempt_delay; ignored`);
      inst.preemptDelay = 0;
    }
    if (inst.vmacXmitBase && gv.xmitBase) {
      this.err(gv.xmitBase, `${where}: strict mode does not allow vmac_xmit_base; ignored`);
      inst.vmacXmitBase = false;
    }
    if (inst.vmacAddress !== null) {
      this.err(inst.src, `${where}: strict mode does not allow a custom VMAC address; using the standard one`);
      inst.vmacAddress = null;
    }
    if (gv.downTimer && inst.downTimerAdverts !== 3) {
      this.err(gv.downTimer, `${where}: strict mode requires down_timer_adverts 3; using 3`);
    }
    inst.downTimerAdverts = 3;
    if (inst.priority !== 255) {
      if (gv.accept && inst.accept) this.err(gv.accept, `${where}: strict mode allows 'accept' only with priority 255; using no_accept`);
      inst.accept = false;
    }
    const first = inst.vips[0];
    if (inst.family === 6 && first && !first.address.toLowerCase().startsWith('fe80:')) {
      this.err(first.src, `${where}: strict mode: the first IPv6 virtual address must be link-local (fe80::/10), not ${first.address}`);
    }
    inst.lowerPrioNoAdvert = true;
    inst.ownerIgnoreAdverts = true;
    inst.garp.lowerPrioRepeat = 0;
    inst.garp.lowerPrioDelay = 0;
  }
}

/** `virtual_routes` words, as keepalived 2.2.7 accepts them (iproute2 syntax; note: `protocol`, not `proto`). */
const ROUTE_TYPES = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit', 'throw', 'local', 'broadcast', 'anycast', 'multicast', 'nat']);
const ROUTE_FLAGS = new Set(['onlink', 'pervasive', 'quickack', 'fastopen_no_cookie', 'ttl-propagate']);
const ROUTE_KV = new Set([
  'to', 'src', 'via', 'gw', 'or', 'dev', 'oif', 'table', 'metric', 'priority', 'preference', 'realm', 'realms', 'mtu',
  'advmss', 'rtt', 'rttvar', 'reordering', 'window', 'cwnd', 'initcwnd', 'initrwnd', 'ssthresh', 'features', 'congctl',
  'rto_min', 'hoplimit', 'expires', 'scope', 'protocol', 'tos', 'dsfield', 'pref', 'encap',
]);
/** `virtual_rules` words (`pref` and `prio` are not keepalived's: `priority` or `preference`). */
const RULE_KV = new Set([
  'from', 'to', 'table', 'lookup', 'priority', 'preference', 'tos', 'dsfield', 'fwmark', 'realms', 'iif', 'oif',
  'uidrange', 'sport', 'dport', 'ipproto', 'suppress_prefixlength', 'suppress_ifgroup', 'goto', 'protocol',
]);
const RULE_FLAGS = new Set(['not', 'l3mdev', 'no_track']);
const RULE_TYPES = new Set(['blackhole', 'unreachable', 'prohibit', 'nop']);

function sameRouter(a: VrrpInstance, b: VrrpInstance, g: GlobalDefs): boolean {
  if (a.virtualRouterId !== b.virtualRouterId || a.family !== b.family) return false;
  if ((a.interface ?? '') !== (b.interface ?? '')) return false;
  const au = a.unicastPeers.length > 0;
  const bu = b.unicastPeers.length > 0;
  if (au !== bu) return false;
  if (au) return a.unicastPeers.some((p) => b.unicastPeers.some((q) => q.address === p.address));
  const dst = (i: VrrpInstance): string => i.mcastDstIp ?? (i.family === 4 ? g.mcastGroup4 : g.mcastGroup6);
  return dst(a) === dst(b);
}

/** True when `a` comes before `b` in the configuration (same file: by line; include order otherwise unknown). */
function before(a: SourcePos, b: SourcePos): boolean {
  return a.file === b.file ? a.line < b.line : false;
}

function isMulticast(addr: string): boolean {
  if (addr.includes(':')) return addr.toLowerCase().startsWith('ff');
  const first = Number(addr.split('.')[0]);
  return first >= 224 && first <= 239;
}

function quoteWord(s: string): string {
  return /[\s"'\\]/.test(s) ? `"${s.replace(/(["\\])/g, '\\$1')}"` : s;
}

/**
 * Interfaces the configuration names (instance interfaces, tracked interfaces, VIP/route `dev`s) that do not exist,
 * as error diagnostics at the line naming them — what keepalived -t reports. `exists` is supplied by the caller
 * (the OS is not touched here). VMAC interfaces the instances create are not required to exist.
 */
export function interfaceDiagnostics(config: KeepalivedConfig, exists: (name: string) => boolean): Diagnostic[] {
  const out: Diagnostic[] = [];
  const created = new Set(config.instances.map((i) => (i.useVmac !== false ? i.useVmac : '')).filter(Boolean));
  const seen = new Set<string>();
  const check = (name: string | null, at: SourcePos, what: string): void => {
    if (name === null || created.has(name)) return;
    const key = `${name}@${at.file}:${at.line}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (!exists(name)) out.push({ severity: 'error', file: at.file, line: at.line, message: `${what}: interface ${name} does not exist` });
  };
  for (const i of config.instances) {
    const w = `vrrp_instance ${i.name}`;
    check(i.interface, i.src, w);
    for (const t of i.trackInterfaces) check(t.name, t.src, `${w} track_interface`);
    for (const v of [...i.vips, ...i.vipsExcluded]) check(v.dev, v.src, `${w} ${v.address}`);
    for (const r of [...i.virtualRoutes, ...i.virtualRules]) check(r.dev, r.src, `${w} ${r.text}`);
  }
  for (const g of config.syncGroups) for (const t of g.trackInterfaces) check(t.name, t.src, `vrrp_sync_group ${g.name} track_interface`);
  for (const v of config.staticAddresses) check(v.dev, v.src, `static_ipaddress ${v.address}`);
  for (const r of [...config.staticRoutes, ...config.staticRules]) check(r.dev, r.src, `${r.text}`);
  return out;
}
