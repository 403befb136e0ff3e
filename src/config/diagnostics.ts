/** Formatting and exit codes for configuration diagnostics. */
import type { Diagnostic, ParseResult } from './model.js';

/** `file:line: message` (errors and warnings), with a severity word for warnings and notices. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  const tag = d.severity === 'error' ? '' : `${d.severity}: `;
  return `${where}: ${tag}${d.message}`;
}

/** Exit codes of `vipd check` (the same meaning as `keepalived -t`'s). */
export const EXIT_OK = 0;
/** The configuration cannot be used: the file is missing, unreadable or not text, or no instance survives. */
export const EXIT_UNUSABLE = 3;
/** There are errors, but the configuration would run (with keepalived's corrections applied). */
export const EXIT_ERRORS = 4;

export function checkExitCode(r: ParseResult): number {
  if (!r.usable) return EXIT_UNUSABLE;
  if (r.diagnostics.some((d) => d.severity === 'error')) return EXIT_ERRORS;
  return EXIT_OK;
}
