/**
 * terminal.ts -- what the programs need from the terminal they run in:
 * fast output, error lines, and a clean stop on Ctrl+C.
 *
 * None of this is about sockets, so it lives here rather than in the lessons.
 *
 * @module
 */
import { EXIT } from "./errors.ts";
import { type Batch, shown } from "./lines.ts";

const encoder = new TextEncoder();

/** Writes every byte of `bytes` to a synchronous writer, however many calls it takes. */
export function writeAllSync(writer: { writeSync(p: Uint8Array): number }, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += writer.writeSync(bytes.subarray(written));
}

/**
 * Prints `text` to stdout as it is (add the "\n" yourself). One call writes a
 * whole batch of lines in one go: about 4 times faster than `console.log` per line.
 */
export function print(text: string): void {
  if (waiting !== "") flushSoon();
  // UTF-8 takes at most 3 bytes per UTF-16 code unit: grow the reused buffer to fit.
  if (output.length < text.length * 3) output = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, output);
  writeAllSync(Deno.stdout, output.subarray(0, written));
}
/** The bytes of the last print, reused: a fresh buffer per print costs more than the write. */
let output = new Uint8Array(65536);

/**
 * Prints `text` within a few milliseconds, together with whatever else is
 * printed meanwhile: one write for many short lines. A server that prints a
 * line per datagram would otherwise spend more on writing than on receiving.
 * `print`, `printLines` and a stop (Ctrl+C) write what waits first, so the
 * order of the lines never changes.
 */
export function printSoon(text: string): void {
  waiting += text;
  if (waiting.length >= 16384) flushSoon();
  else flushTimer ??= setTimeout(flushSoon, FLUSH_MS);
}
/** How long a line may wait in {@link printSoon} (ms). */
export const FLUSH_MS = 5;
let waiting = "";
let flushTimer: ReturnType<typeof setTimeout> | undefined;

/** Writes what {@link printSoon} holds. */
export function flushSoon(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  const text = waiting;
  waiting = "";
  if (text !== "") print(text);
}

/**
 * Prints each message of a batch as a line, after `label`: `Reçu : bonjour`.
 *
 * This is the hot path of a server under a fast stream, hence the care:
 * encoding text that holds a "ç" costs about 30 times more per byte than
 * pure ASCII text in Deno. When the lines are plain ASCII (the common case),
 * the batch is encoded with an ASCII stand-in of the label, and the label's
 * real bytes are then written over each stand-in.
 */
export function printLines(label: string, batch: Batch): void {
  if (waiting !== "") flushSoon();
  let chars = batch.length; // the "\n"s
  for (const message of batch) chars += message.text.length;
  if (batch.raw === undefined || batch.raw.length !== chars) {
    // Not plain ASCII lines: the simple way.
    return print(batch.map((message) => `${label}${shown(message)}\n`).join(""));
  }
  const head = encoder.encode(label);
  // The stand-in: each non-ASCII character of the label becomes as many "#" as its UTF-8 bytes.
  const stand = label.replace(/[^ -~]/g, (c) => "#".repeat(encoder.encode(c).length));
  const text = stand + batch.map((message) => message.text).join(`\n${stand}`) + "\n";
  if (output.length < text.length) output = new Uint8Array(text.length * 2);
  encoder.encodeInto(text, output); // ASCII only: a plain copy
  let at = 0;
  for (const message of batch) {
    output.set(head, at);
    at += head.length + message.text.length + 1;
  }
  writeAllSync(Deno.stdout, output.subarray(0, at));
}

/** Prints one error line to stderr, in red on a terminal (Deno drops the colour elsewhere). */
export function printError(line: string): void {
  if (waiting !== "") flushSoon(); // the lines before the error come first, and are not lost on exit
  console.error("%c%s", "color: red", line);
}

/**
 * Calls `stop` once on Ctrl+C (SIGINT) or SIGTERM. `stop` should close the
 * sockets, print "Fin du programme" and exit. A second signal while stopping
 * exits at once with code 130.
 */
export function onStop(stop: () => void): void {
  let stopping = false;
  const handler = () => {
    if (stopping) Deno.exit(EXIT.INTERRUPTED);
    stopping = true;
    flushSoon(); // the lines still waiting come before "Fin du programme"
    stop();
  };
  Deno.addSignalListener("SIGINT", handler);
  // Windows has no SIGTERM; Deno refuses to listen for it there.
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", handler);
}

/** Closes each socket, skipping those that are closed already. */
export function closeAll(sockets: Iterable<{ close(): void }>): void {
  for (const socket of sockets) {
    try {
      socket.close();
    } catch {
      // Closed already (BadResource): nothing left to do.
    }
  }
}

/**
 * Formats a network address as `ip:port`, with IPv6 in brackets: `[::1]:5000`.
 * An IPv4 client of a server on `::` shows as `::ffff:127.0.0.1`: it is shown
 * as the IPv4 address it is.
 */
export function formatAddr(addr: Deno.Addr): string {
  if (addr.transport !== "tcp" && addr.transport !== "udp") return String(addr.transport);
  const ip = addr.hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  const host = ip.includes(":") ? `[${ip}]` : ip;
  return `${host}:${addr.port}`;
}
