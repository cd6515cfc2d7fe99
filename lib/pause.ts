/**
 * pause.ts -- what {@link messages} (lib/lines.ts) waits for before it reads
 * more: lib/terminal.ts sets it, so that servers read their clients no faster
 * than stdout takes their lines.
 *
 * A leaf module: it imports nothing. It sits between the two so that
 * lib/terminal.ts need not load lib/lines.ts: a program that prints but reads
 * no stream (the UDP client) never loads the line reader.
 *
 * @module
 */

/** Asked before each read of `messages()`: a promise to wait for first, or null. */
export let readPause: () => Promise<void> | null = () => null;

/** Sets {@link readPause}. */
export function setReadPause(pause: () => Promise<void> | null): void {
  readPause = pause;
}
