/**
 * exit.ts -- the exit codes, the same for every program (see the README).
 *
 * A leaf module: it imports nothing, so that every other module may import it.
 *
 * @module
 */

/** Exit codes, the same for every program. */
export const EXIT = {
  /** Done, or stopped with Ctrl+C / SIGTERM. */
  OK: 0,
  /** A network error: server unavailable, port in use, unknown host, lost connection. */
  NETWORK: 1,
  /** A bad command line. */
  USAGE: 2,
  /** Deno was not given what the program needs: `--allow-net` or `--unstable-net`. */
  SETUP: 3,
  /** A second Ctrl+C while the program was stopping. */
  INTERRUPTED: 130,
} as const;
