/**
 * Alert severity from the anomaly score and the device's criticality.
 *
 * Score bands (score = error ÷ threshold): (1, 2] low, (2, 5] medium, (5, 20] high, > 20 critical.
 * Criticality shifts the band: `low` one step down (never below `low`), `medium` none, `high` one step up,
 * `life_critical` one step up and never below `medium`. So a pump (life-critical) with a score of 1.5 is `medium`, and
 * a badge printer (low) needs a score above 20 to reach `high`.
 */
import type { Criticality, Severity } from '../records/index.js';

const LEVELS: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export function scoreBand(score: number): number {
  if (score > 20) return 3;
  if (score > 5) return 2;
  if (score > 2) return 1;
  return 0;
}

export function severityFor(score: number, criticality: Criticality): Severity {
  let level = scoreBand(score);
  if (criticality === 'low') level -= 1;
  else if (criticality === 'high') level += 1;
  else if (criticality === 'life_critical') level = Math.max(level + 1, 1);
  return LEVELS[Math.min(Math.max(level, 0), LEVELS.length - 1)] as Severity;
}

const RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function severityRank(s: Severity): number {
  return RANK[s];
}
