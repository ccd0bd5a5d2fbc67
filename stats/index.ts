// Public API of the statistics module. See README.md.

export { StatsError, isNonEmpty, type NonEmpty, type StatsErrorCode } from './errors.js';
export {
  MAD_NORMAL_SCALE,
  cvPct,
  madPct,
  madRaw,
  madScaled,
  max,
  mean,
  median,
  min,
  quantile,
  stddev,
  summarize,
  type Summary,
} from './descriptive.js';
export { normalCdf, normalQuantile } from './normal.js';
export { tCdf, tQuantile } from './t.js';
export {
  MANN_WHITNEY_EXACT_BELOW_N,
  mannWhitneyCriticalU,
  mannWhitneyExactPmf,
  mannWhitneyU,
  type MannWhitneyOptions,
  type MannWhitneyResult,
} from './mann-whitney.js';
export { hodgesLehmann, type HodgesLehmannOptions, type ShiftEstimate } from './hodges-lehmann.js';
export { holmAdjust } from './holm.js';
export { mulberry32, randomIndex, seededShuffle, shuffle, type Rng } from './random.js';
export { linearRegression, type LinearFit, type NoLinearFit, type Point } from './regression.js';
export { settledValue, type SettleOptions, type SettleResult, type TimedSample } from './settle.js';
export { medianRatePerSec, type RateOptions } from './rate.js';
export {
  DEFAULT_MIN_VALUES,
  DEFAULT_SEQUENTIAL_ALPHA,
  alphaSpent,
  expectedSettlingLook,
  logRatioInterval,
  lookAlpha,
  sequentialVerdict,
  type LookOptions,
  type NoRatioInterval,
  type RatioInterval,
  type SequentialInput,
  type SequentialResult,
  type SettlingPlan,
  type SettlingPlanInput,
  type SpendingFunction,
  type UndecidedReason,
  type Verdict,
} from './sequential.js';
