import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { HealthLevel } from '../health-assessment';

/**
 * Runs one indicator under its own deadline: a late (or throwing) indicator is reported `down`
 * with a message instead of holding the whole health answer.
 */
export async function withDeadline<const K extends string>(
  indicators: HealthIndicatorService,
  key: K,
  timeoutMs: number,
  check: () => Promise<HealthIndicatorResult<K>> | HealthIndicatorResult<K>,
  /** How a late answer counts: `down` for a dependency the service needs, less for an informative one. */
  lateLevel: HealthLevel = 'down',
): Promise<HealthIndicatorResult<K>> {
  const session = indicators.check(key);
  const report = (reason: string): HealthIndicatorResult<K> =>
    (lateLevel === 'down' ? session.down({ level: lateLevel, reason }) : session.up({ level: lateLevel, reason })) as HealthIndicatorResult<K>;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<HealthIndicatorResult<K>>((resolve) => {
    timer = setTimeout(
      () => resolve(report(`no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(check), late]);
  } catch (error) {
    return report(`the check failed: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
