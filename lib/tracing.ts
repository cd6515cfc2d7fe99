/**
 * tracing.ts -- whether `--trace` is on, and the lines lib/net.ts adds to it.
 *
 * The trace itself, lib/trace.ts, is loaded only when `--trace` is given
 * (lib/flags.ts): most runs never need it, and loading it costs every
 * program's start-up. This small module is what the rest of lib/ may import
 * without loading it. A leaf module: it imports nothing.
 *
 * @module
 */

/** Whether `--trace` is on; read by lib/net.ts before it builds a note. */
export let tracing = false;
/** While > 0, sockets are made untraced (see {@link quietly}). */
let quiet = 0;
/** Where notes go once the trace is on: lib/trace.ts's lines. */
let note: (socket: object | null, text: string) => void = () => {};

/** Turns the trace on, its notes going to `write`. Called by lib/trace.ts's `installTrace()`. */
export function startTracing(write: (socket: object | null, text: string) => void): void {
  tracing = true;
  note = write;
}

/**
 * Adds a line to the trace, among those of `socket` if it is a traced one
 * (after the sum of its last reads and writes, if they were being summed up).
 * Does nothing without `--trace`, but callers check {@link tracing} first so
 * as not to build the text for nothing.
 */
export function traceNote(socket: object | null, text: string): void {
  if (tracing) note(socket, text);
}

/**
 * Runs `make` with the trace off for the sockets it opens: for a socket the
 * lessons never see (lib/net.ts binds one for a moment to learn whether an
 * address is this machine's).
 */
export function quietly<T>(make: () => T): T {
  quiet++;
  try {
    return make();
  } finally {
    quiet--;
  }
}

/** Whether the sockets being made now stay out of the trace (see {@link quietly}). */
export function isQuiet(): boolean {
  return quiet > 0;
}
