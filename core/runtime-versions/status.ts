/**
 * What `bench doctor` says about one runtime request (pure): ready, missing (and what installing it takes),
 * or refused with the reason and the nearest that works.
 */
import type { Check } from '../doctor.js';
import type { RuntimeState } from './resolve.js';

/**
 * A doctor check for one inspected request. Missing is a warning, not a failure: `bench run` installs it on
 * first use; refused and errors fail with the error's hint as the fix.
 */
export function runtimeCheck(s: RuntimeState): Check {
  const name = `runtime ${s.request}`;
  if (s.state === 'ready') {
    const r = s.resolved;
    const lib = r.library.package ? `${r.library.name} ${r.library.version} (${r.library.package}, ${r.library.source})` : `${r.library.name} ${r.library.version}`;
    const notes = r.notes.length > 0 ? `; ${r.notes.join('; ')}` : '';
    return { name, status: 'ok', detail: `${r.key}: ${r.runtime} ${r.version} from the ${r.source} (${r.binaryPath}), library ${lib}${notes}` };
  }
  if (s.state === 'missing') {
    return {
      name,
      status: 'warn',
      detail: `not installed: needs ${s.error.needs.map((n) => `${n.spec} (into ${n.dir})`).join(' and ')}; bench installs it with npm on first use`,
      fix: `npm run runtimes:install -- ${s.request}`,
    };
  }
  return { name, status: 'fail', detail: `${s.error.code}: ${s.error.message}`, ...(s.error.hint ? { fix: s.error.hint } : {}) };
}
