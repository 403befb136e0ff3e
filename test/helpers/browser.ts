/**
 * Headless chromium for the dashboard tests: Debian's binary (.ci/run installs it), the flags this machine needs
 * (no background networking: the network is closed), and playwright-core when the dev dependency is installed.
 */
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

async function loadPlaywright(): Promise<typeof import('playwright-core') | null> {
  try {
    return await import('playwright-core');
  } catch {
    return null;
  }
}

/** playwright-core, or null when it is not installed. */
export const playwright = await loadPlaywright();

/** Why a browser test cannot run here (`what`: "browser test", "browser part"), or undefined. */
export function browserSkipReason(what: string): string | undefined {
  if (!existsSync(CHROMIUM)) return `${what} needs Debian's chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it); skipped`;
  if (!playwright) return `${what} needs the playwright-core dev dependency (npm ci); skipped`;
  return undefined;
}
