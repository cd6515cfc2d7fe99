/**
 * timers.ts -- `setTimeout` and `clearTimeout`, as lib/ uses them, without
 * Deno's Node.js timers.
 *
 * Deno's global `setTimeout` loads its Node.js timers (node:timers) the first
 * time a program touches it: 13 ms or more of a small machine's time, and
 * 3 MiB of memory that stays (a server holding 1,000 idle clients then needs
 * that much more). `AbortSignal.timeout()` runs on Deno's own timers and
 * loads nothing: these two functions are built on it, with the same calls,
 * so that a module of lib/ uses them by importing them, and reads the same.
 * Like Deno's, a timer keeps the program alive until it fires or is cleared.
 *
 * A leaf module: it imports nothing.
 *
 * @module
 */

/** A timer armed by {@link setTimeout}. */
export interface Timer {
  /** Cancels the timer: its function will not be called. */
  clear(): void;
}

/** Longest delay a timer takes, as Deno's (about 24.8 days); a longer one fires after 1 ms. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Calls `fn(...args)` once, `ms` milliseconds from now (at least 1 ms, as
 * Deno's `setTimeout` does), unless {@link clearTimeout} is called first.
 */
export function setTimeout<A extends unknown[]>(
  fn: (...args: A) => void,
  ms = 0,
  ...args: A | []
): Timer {
  const delay = ms >= 1 && ms <= MAX_DELAY ? Math.trunc(ms) : 1;
  const signal = AbortSignal.timeout(delay);
  const fire = () => fn(...(args as A));
  // The listener is what keeps the program alive; removing it lets the program end.
  signal.addEventListener("abort", fire, { once: true });
  return { clear: () => signal.removeEventListener("abort", fire) };
}

/** Cancels a timer of {@link setTimeout}; nothing happens if it has fired or is undefined. */
export function clearTimeout(timer: Timer | undefined): void {
  timer?.clear();
}
