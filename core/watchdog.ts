// The watchdog: one small process per bench process that outlives it only to
// clean up. bench tells it, on its stdin, every process group it starts
// (`+PGID`) and every group that is gone (`-PGID`); when its stdin ends —
// bench exited, crashed or was killed with SIGKILL — it stops every group still
// registered: SIGTERM, then SIGKILL after a grace period. So no server, command
// or simulated upstream outlives bench, whatever its runtime and even when a
// user's command forked (a fork stays in its group). Started by core/process.ts.
//
//   node dist/core/watchdog.js [graceMs]    (stdin: lines "+123" / "-123")

const graceMs = Number(process.argv[2] ?? 1000);
const groups = new Set<number>();
let buffered = '';

function alive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalAll(sig: NodeJS.Signals): void {
  for (const g of groups) {
    try {
      process.kill(-g, sig);
    } catch {
      groups.delete(g);
    }
  }
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  buffered += chunk;
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl).trim();
    buffered = buffered.slice(nl + 1);
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 1) continue;
    if (line[0] === '+') groups.add(pgid);
    else if (line[0] === '-') groups.delete(pgid);
  }
});
process.stdin.on('end', () => {
  signalAll('SIGTERM');
  const deadline = Date.now() + graceMs;
  const poll = () => {
    for (const g of groups) if (!alive(g)) groups.delete(g);
    if (groups.size === 0) process.exit(0);
    if (Date.now() >= deadline) {
      signalAll('SIGKILL');
      process.exit(0);
    }
    setTimeout(poll, 20);
  };
  poll();
});
// A terminal's signals are not for the watchdog: it must see bench's end to clean up after it.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => {});
