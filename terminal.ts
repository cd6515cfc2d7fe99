/**
 * terminal.ts -- what the programs need from the terminal they run in:
 * fast output, error lines, and a clean stop on Ctrl+C.
 *
 * None of this is about sockets, so it lives here rather than in the lessons.
 *
 * @module
 */
import { EXIT } from "./errors.ts";

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
  writeAllSync(Deno.stdout, encoder.encode(text));
}

/** Prints one error line to stderr, in red on a terminal (Deno drops the colour elsewhere). */
export function printError(line: string): void {
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
