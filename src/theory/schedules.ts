/**
 * Exploration schedules for ε-greedy planners (Words-to-Actions §4). `epsilon(t)` is the probability that episode
 * t (1-based) is exploratory.
 */
export type EpsilonSchedule =
  | { readonly kind: "none" }
  | { readonly kind: "constant"; readonly epsilon: number }
  /** ε_t = min(1, c · t^(−power)): power 1/2 is the anytime √T schedule, 1/3 the T^(2/3) contrast arm. */
  | { readonly kind: "power"; readonly c: number; readonly power: number };

export function epsilonAt(schedule: EpsilonSchedule, t: number): number {
  switch (schedule.kind) {
    case "none":
      return 0;
    case "constant":
      return schedule.epsilon;
    case "power":
      return Math.min(1, schedule.c * t ** -schedule.power);
  }
}

/**
 * Horizon-tuned constant ε*(T) ≍ √(H · log(|Z| T) / (η T)) (spec §4, with δ folded into the log), capped at 1.
 * `scale` is the constant the spec leaves open.
 */
export function tunedEpsilon(options: {
  horizon: number;
  H: number;
  Z: number;
  eta: number;
  scale?: number;
}): number {
  const { horizon, H, Z, eta } = options;
  const scale = options.scale ?? 1;
  return Math.min(1, scale * Math.sqrt((H * Math.log(Z * horizon)) / (eta * horizon)));
}
