/** theory/: priors, posteriors, entropy, regret accounting, slope fits — small, pure, fast. */
export { BetaBernoulli, betaEntropy } from "./beta.ts";
export { DirichletTransitions, dirichletEntropy } from "./dirichlet.ts";
export { LinearGaussian } from "./gaussian.ts";
export { FinitePosterior } from "./posterior.ts";
export { checkpoints, horizonSlope, RegretCurves, type SlopeFit, tailSlope } from "./regret.ts";
export { type EpsilonSchedule, epsilonAt, tunedEpsilon } from "./schedules.ts";
export {
  entropy,
  linearFit,
  logSumExp,
  mean,
  normalizeLog,
  standardError,
  t975,
  totalVariation,
} from "./stats.ts";
