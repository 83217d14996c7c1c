import { endWith, filter, firstValueFrom, map, merge, Observable } from 'rxjs';
import { Clock } from './clock';

const systemClock = new Clock();

/**
 * Resolves true as soon as `state$` emits a value that satisfies `predicate` (a BehaviorSubject's
 * current value counts), false when `timeoutMs` passes first (or `state$` completes without one).
 * The timer is the given clock's, so a manual clock decides when time is up.
 */
export function waitFor<T>(state$: Observable<T>, predicate: (state: T) => boolean, timeoutMs: number, clock: Clock = systemClock): Promise<boolean> {
  const reached$ = state$.pipe(
    filter(predicate),
    map(() => true),
    endWith(false),
  );
  const timedOut$ = new Observable<boolean>((subscriber) => {
    const timer = clock.setTimeout(() => subscriber.next(false), timeoutMs);
    return () => clock.clearTimeout(timer);
  });
  return firstValueFrom(merge(reached$, timedOut$));
}
