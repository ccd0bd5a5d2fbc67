import type { Problems } from '../../core/validate.js';
import type { VoiceModel } from '../types.js';

/** Voice agent: sessions stream audio events through /relay to the simulated upstream and time its replies. */
export const description = 'voice agent: audio events every frameIntervalMs per session through /relay, a turn every framesPerTurn events, replies timed';

// Stub: the full validator lands with the voice model.
export function validate(raw: Record<string, unknown>, _path: string, _problems: Problems): VoiceModel[] {
  return [raw as unknown as VoiceModel];
}

export function caseSuffix(_m: VoiceModel): string {
  return '';
}
