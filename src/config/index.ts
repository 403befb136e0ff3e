/** Public surface of the keepalived.conf reader. */
export { parseConfig, parseConfigText, defaultGlobal, defaultGarp, interfaceDiagnostics } from './parser.js';
export { formatDiagnostic, checkExitCode, EXIT_OK, EXIT_UNUSABLE, EXIT_ERRORS } from './diagnostics.js';
export type * from './model.js';
