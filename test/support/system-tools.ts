/**
 * System tools some tests need to make real image files, and what installs them. A test that
 * needs a missing tool is skipped (not failed), and the skip is recorded so that `npm test`
 * (test/run.ts) can name the tool, the install command and the number of skipped tests, and
 * fail the run under CI=true, where .ci/system-deps.sh installs them all.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { Test } from 'uvu';

/** Tool → the Debian package that provides it (.ci/system-deps.sh installs the same list). */
export const SYSTEM_TOOLS = {
  'qemu-img': 'qemu-utils',
  xz: 'xz-utils',
  bzip2: 'bzip2',
  zstd: 'zstd',
  genisoimage: 'genisoimage',
  lz4: 'lz4',
  zip: 'zip',
  '7zz': '7zip',
  tar: 'tar',
} as const;

export type SystemTool = keyof typeof SYSTEM_TOOLS;

/** The environment variable naming the file skips are recorded in (set by test/run.ts). */
export const SKIP_LOG_ENV = 'KMF_SKIP_LOG';

const presence = new Map<SystemTool, boolean>();

/** True when `tool` runs from PATH. */
export function hasTool(tool: SystemTool): boolean {
  let ok = presence.get(tool);
  if (ok === undefined) {
    // `command -v` is a shell builtin; asking the shell finds what a test's execFile would.
    ok = spawnSync('sh', ['-c', `command -v '${tool}'`], { stdio: 'ignore' }).status === 0;
    presence.set(tool, ok);
  }
  return ok;
}

/** The tools of `tools` that are missing. */
export function missingTools(tools: readonly SystemTool[] = Object.keys(SYSTEM_TOOLS) as SystemTool[]): SystemTool[] {
  return tools.filter((t) => !hasTool(t));
}

/** The command that installs `tools` on Debian. */
export function installCommand(tools: readonly SystemTool[]): string {
  return `apt-get install -y ${[...new Set(tools.map((t) => SYSTEM_TOOLS[t]))].join(' ')}`;
}

function recordSkip(name: string, missing: SystemTool[]): void {
  const file = process.env[SKIP_LOG_ENV];
  const line = `${JSON.stringify({ test: name, missing })}\n`;
  if (file) appendFileSync(file, line);
  else process.stderr.write(`skipped (missing ${missing.join(', ')}; ${installCommand(missing)}): ${name}\n`);
}

/**
 * `test` for tests that need `tools`: registered as usual when all are present, else skipped
 * and recorded. `gated.before`/`after` hooks run only when the tools are present, so a hook
 * that makes image files cannot abort the file.
 */
export function needing<T>(test: Test<T>, tools: readonly SystemTool[]) {
  const missing = missingTools(tools);
  const gated = (name: string, fn: Parameters<Test<T>>[1]): void => {
    if (missing.length === 0) test(name, fn);
    else {
      recordSkip(name, missing);
      test.skip(name, fn);
    }
  };
  gated.before = (fn: Parameters<Test<T>['before']>[0]): void => void (missing.length === 0 && test.before(fn));
  gated.after = (fn: Parameters<Test<T>['after']>[0]): void => void (missing.length === 0 && test.after(fn));
  gated.missing = missing;
  return gated;
}
