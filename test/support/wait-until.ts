import { Observable, filter, firstValueFrom, timeout } from 'rxjs';

/** The first value of `source$` that satisfies `predicate`, or an error naming `what` after `ms`. */
export async function firstMatching<T>(source$: Observable<T>, predicate: (value: T) => boolean, what: string, ms = 20000): Promise<T> {
  try {
    return await firstValueFrom(source$.pipe(filter(predicate), timeout(ms)));
  } catch (error) {
    throw new Error(`timed out after ${ms} ms waiting for ${what}: ${(error as Error).message}`);
  }
}
