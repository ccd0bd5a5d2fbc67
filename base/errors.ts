/**
 * Expected failures carry a stable code (tests assert the code, not the prose),
 * a hint that says what to change, and the exit code the CLI maps them to.
 * Anything that is not a BenchError is a bug and is shown with its stack.
 */

/** Process exit codes; distinct so that CI can tell bad input from a failed run or a regression. */
export const ExitCode = {
  ok: 0,
  /** Bad flags, scenario or result files: the user must change the input. */
  badInput: 2,
  /** A run failed (a server never got ready, crashed, or a cell errored). */
  runFailed: 3,
  /** `compare --fail-on-regression` found a regression. */
  regression: 10,
  /** Interrupted by SIGINT/SIGTERM; partial results were written. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'E_USAGE'
  | 'E_UNKNOWN_RUNTIME'
  | 'E_RUNTIME_UNAVAILABLE'
  | 'E_PORT_IN_USE'
  | 'E_SERVER_NOT_READY'
  | 'E_SERVER_EXITED'
  | 'E_SERVER_BAD_READY_LINE'
  | 'E_RUNTIME_MISMATCH'
  | 'E_PARITY_MISMATCH'
  | 'E_INVALID_SCENARIO'
  | 'E_INVALID_RESULT'
  | 'E_LOADGEN_FAILED'
  | 'E_INTERRUPTED'
  /** `bench compare`: the results differ in schema, scenario definitions or environment (without --force). */
  | 'E_INCOMPARABLE'
  /** `bench compare --thresholds`: the thresholds file is not valid. */
  | 'E_INVALID_THRESHOLDS'
  /** `bench compare --noise`: not a calibration written by `bench calibrate`. */
  | 'E_INVALID_CALIBRATION'
  /** `--segment I/N` (loadgen/segment.ts): not I/N, I outside 0..N-1, or more segments than connections. */
  | 'E_INVALID_SEGMENT'
  /** A load segment (`bench load --segment`) was not connected before its measured window began (--start-at + warmup). */
  | 'E_SEGMENT_LATE'
  /** Network namespaces (core/netns.ts): cannot be made here, or an `ip` command failed. */
  | 'E_NETNS'
  /** A runtime id's version part is malformed (`bun@1.x`) or not allowed for that runtime (`deno@system`). */
  | 'E_INVALID_RUNTIME_VERSION'
  /** The version or line does not exist on the npm registry (`bun@9`); the hint lists the newest lines. */
  | 'E_UNKNOWN_RUNTIME_VERSION'
  /** The version exists but cannot run here (no uWebSockets.js build for its ABI, platform or glibc); the hint names the nearest that works. */
  | 'E_RUNTIME_UNSUPPORTED'
  /** The npm registry could not be asked which versions exist (and nothing cached answers the request). */
  | 'E_REGISTRY_UNAVAILABLE'
  /** `npm install` of a runtime or library into the cache failed. */
  | 'E_RUNTIME_INSTALL_FAILED'
  /** An installed runtime is not what was asked for: its --version output, ABI or package differ. */
  | 'E_RUNTIME_VERIFY_FAILED';

const exitCodeOf: Record<ErrorCode, ExitCodeValue> = {
  E_USAGE: ExitCode.badInput,
  E_UNKNOWN_RUNTIME: ExitCode.badInput,
  E_RUNTIME_UNAVAILABLE: ExitCode.runFailed,
  E_PORT_IN_USE: ExitCode.badInput,
  E_SERVER_NOT_READY: ExitCode.runFailed,
  E_SERVER_EXITED: ExitCode.runFailed,
  E_SERVER_BAD_READY_LINE: ExitCode.runFailed,
  E_RUNTIME_MISMATCH: ExitCode.runFailed,
  E_PARITY_MISMATCH: ExitCode.runFailed,
  E_INVALID_SCENARIO: ExitCode.badInput,
  E_INVALID_RESULT: ExitCode.badInput,
  E_LOADGEN_FAILED: ExitCode.runFailed,
  E_INTERRUPTED: ExitCode.interrupted,
  E_INCOMPARABLE: ExitCode.badInput,
  E_INVALID_THRESHOLDS: ExitCode.badInput,
  E_INVALID_CALIBRATION: ExitCode.badInput,
  E_INVALID_SEGMENT: ExitCode.badInput,
  E_SEGMENT_LATE: ExitCode.runFailed,
  E_NETNS: ExitCode.runFailed,
  E_INVALID_RUNTIME_VERSION: ExitCode.badInput,
  E_UNKNOWN_RUNTIME_VERSION: ExitCode.badInput,
  E_RUNTIME_UNSUPPORTED: ExitCode.badInput,
  E_REGISTRY_UNAVAILABLE: ExitCode.runFailed,
  E_RUNTIME_INSTALL_FAILED: ExitCode.runFailed,
  E_RUNTIME_VERIFY_FAILED: ExitCode.runFailed,
};

export class BenchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** Extra lines shown under the message (for example a server's last stderr lines). */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: { hint?: string; details?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BenchError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  get exitCode(): ExitCodeValue {
    return exitCodeOf[this.code];
  }
}

export function isBenchError(e: unknown): e is BenchError {
  return e instanceof BenchError;
}

/**
 * Bounds of what formatError prints, so that no input makes an error flood stderr (a 50 MB field once
 * printed 262 MB): at most MAX_DETAILS details and DETAILS_BUDGET_CHARS of them (then "… and N more"),
 * each at most 3 lines of MAX_DETAIL_CHARS (a server's stderr lines are kept to 300 characters); message and
 * hint at most 3 lines of MAX_LINE_CHARS each. Whole: under 16 KB, a few hundred bytes in practice.
 */
export const MAX_DETAILS = 50;
export const MAX_DETAIL_CHARS = 300;
export const MAX_LINE_CHARS = 400;
export const DETAILS_BUDGET_CHARS = 12_000;

/** `s` cut to `max` characters, with "…" where it was cut. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** Each line of `s` clipped to `max`, at most `maxLines` lines. */
function clipLines(s: string, max: number, maxLines = 10): string[] {
  const lines = s.split('\n');
  const out = lines.slice(0, maxLines).map((l) => clip(l, max));
  if (lines.length > maxLines) out.push(`… (${lines.length - maxLines} more lines)`);
  return out;
}

/** One human-readable block: `error[E_CODE]: message`, details, and `hint: ...`, bounded as above. */
export function formatError(e: BenchError): string {
  const lines = clipLines(`error[${e.code}]: ${e.message}`, MAX_LINE_CHARS, 3);
  let used = 0;
  let shown = 0;
  for (const d of e.details) {
    if (shown === MAX_DETAILS || used > DETAILS_BUDGET_CHARS) break;
    const block = clipLines(`  ${d}`, MAX_DETAIL_CHARS, 3);
    lines.push(...block);
    used += block.reduce((a, l) => a + l.length + 1, 0);
    shown++;
  }
  if (shown < e.details.length) lines.push(`  … and ${e.details.length - shown} more`);
  if (e.hint) lines.push(...clipLines(`hint: ${e.hint}`, MAX_LINE_CHARS, 3));
  return lines.join('\n') + '\n';
}
