/**
 * The failover lab harness (tests, benchmarks, `vipd lab`): namespace topology, high-rate prober, router
 * daemons. Lab tooling only: the daemon never imports it. See docs/lab-harness.md.
 */
export * from './exec.js';
export * from './topology.js';
export * from './prober.js';
export * from './daemons.js';
export * from './hostile.js';
export * from './blaster.js';
