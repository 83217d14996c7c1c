import { Clock, TimerHandle } from '@qwen/supervision';
import { QueueFullError, QueueTimeoutError } from './model.contract';

export interface GenerationQueueOptions<T> {
  /** Requests allowed to WAIT behind the one in flight (0 = none may wait). */
  maxLength: number;
  /** A waiting request older than this leaves the queue and `onTimeout` is called; <= 0 or Infinity = no limit. */
  maxWaitMs: number;
  clock: Clock;
  /** Called (once, after the item left the queue) when an item waited longer than `maxWaitMs`. */
  onTimeout?: (item: T, error: QueueTimeoutError) => void;
  /** Retry-After carried by QueueFullError, seconds. */
  retryAfterSeconds?: number;
}

/** A place in the queue, returned by `enqueue`; opaque except for what it says. */
export interface QueueTicket {
  readonly id: number;
  readonly enqueuedAt: number;
}

interface Entry<T> {
  readonly item: T;
  timer: TimerHandle | null;
}

/**
 * Strict FIFO of requests waiting for the one runner.
 *
 * - `enqueue` throws QueueFullError when `maxLength` requests already wait behind the one in flight
 *   (when nothing is in flight the newcomer is about to be taken, so it does not count as waiting).
 * - Each waiting item has its own timer (`maxWaitMs`); it is cleared when the item leaves the queue
 *   by `next`, `cancel`, `drain` or its timeout, so no timer outlives its item.
 * - `next()` takes the head and counts it in flight until `complete()` (one generation at a time).
 * - `cancel` removes a waiting item without calling anything.
 */
export class GenerationQueue<T> {
  private readonly waiting = new Map<QueueTicket, Entry<T>>();
  private nextId = 1;
  private active = 0;

  constructor(private readonly options: GenerationQueueOptions<T>) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 0) {
      throw new RangeError(`queue maxLength must be an integer >= 0, got ${options.maxLength}`);
    }
  }

  /** Items waiting (not counting the one in flight). */
  get length(): number {
    return this.waiting.size;
  }

  /** 1 while an item taken by `next()` has not been `complete()`d, else 0. */
  get inFlight(): number {
    return this.active;
  }

  get limit(): number {
    return this.options.maxLength;
  }

  /** Appends an item; throws QueueFullError when the queue is full. */
  enqueue(item: T): QueueTicket {
    const capacity = this.options.maxLength + (this.active === 0 ? 1 : 0);
    if (this.waiting.size >= capacity) {
      throw new QueueFullError(this.options.maxLength, this.options.retryAfterSeconds);
    }
    const { clock, maxWaitMs } = this.options;
    const ticket: QueueTicket = Object.freeze({ id: this.nextId++, enqueuedAt: clock.now() });
    const entry: Entry<T> = { item, timer: null };
    if (maxWaitMs > 0 && Number.isFinite(maxWaitMs)) {
      entry.timer = clock.setTimeout(() => this.expire(ticket), maxWaitMs);
    }
    this.waiting.set(ticket, entry);
    return ticket;
  }

  /** Removes a waiting item; false if it is no longer waiting (taken, timed out, cancelled, drained). */
  cancel(ticket: QueueTicket): boolean {
    return this.remove(ticket) !== undefined;
  }

  /** Whether the ticket's item still waits. */
  isWaiting(ticket: QueueTicket): boolean {
    return this.waiting.has(ticket);
  }

  /** 0-based position among the waiting items, or -1. O(length). */
  position(ticket: QueueTicket): number {
    let index = 0;
    for (const key of this.waiting.keys()) {
      if (key === ticket) return index;
      index += 1;
    }
    return -1;
  }

  /** The waiting items, oldest first, with when each was enqueued. */
  waitingItems(): Array<{ item: T; enqueuedAt: number }> {
    return [...this.waiting].map(([ticket, entry]) => ({ item: entry.item, enqueuedAt: ticket.enqueuedAt }));
  }

  /** The head, without taking it. */
  peek(): T | undefined {
    for (const entry of this.waiting.values()) return entry.item;
    return undefined;
  }

  /** Takes the head (the oldest waiting item) and counts it in flight; undefined when empty. */
  next(): T | undefined {
    for (const ticket of this.waiting.keys()) {
      const entry = this.remove(ticket);
      this.active = 1;
      return entry?.item;
    }
    return undefined;
  }

  /** The item taken by `next()` finished (whatever the outcome). */
  complete(): void {
    this.active = 0;
  }

  /** Removes and returns every waiting item in arrival order (shutdown, failed model). */
  drain(): T[] {
    const items: T[] = [];
    for (const ticket of [...this.waiting.keys()]) {
      const entry = this.remove(ticket);
      if (entry) items.push(entry.item);
    }
    return items;
  }

  private remove(ticket: QueueTicket): Entry<T> | undefined {
    const entry = this.waiting.get(ticket);
    if (!entry) return undefined;
    this.waiting.delete(ticket);
    this.options.clock.clearTimeout(entry.timer);
    entry.timer = null;
    return entry;
  }

  private expire(ticket: QueueTicket): void {
    const entry = this.waiting.get(ticket);
    if (!entry) return;
    entry.timer = null; // it fired
    this.waiting.delete(ticket);
    const waitedMs = this.options.clock.now() - ticket.enqueuedAt;
    this.options.onTimeout?.(entry.item, new QueueTimeoutError(waitedMs));
  }
}
