/**
 * net.ts -- the socket helpers of the lessons, as Stevens keeps `writen`,
 * `readable_timeo` and his wrappers in his `lib/`: sending every byte,
 * accepting clients come what may, waiting for a datagram with a time limit.
 *
 * @module
 */
import { formatAddr, plainIp } from "./ip.ts";
import { printError } from "./terminal.ts";
import { clearTimeout, setTimeout } from "./timers.ts";
import { quietly, traceNote, tracing } from "./tracing.ts";

const encoder = new TextEncoder();

/** Size of the buffers that {@link writeAll} encodes text into (bytes). */
const TEXT_BUFFER = 4096;
/**
 * Buffers free to encode text into. A fresh buffer for each reply costs more
 * than encoding it: a server answering one line at a time would spend a good
 * part of each round trip making buffers. Each write takes one and gives it
 * back once the write is done.
 */
const textBuffers: Uint8Array[] = [];

/**
 * Writes every byte of `data` (text is sent as UTF-8), as Beej's `sendall()`
 * and Stevens' `writen()`: one `write` may take only part of the buffer.
 * Returns how many bytes were written.
 */
export async function writeAll(conn: Deno.Conn, data: string | Uint8Array): Promise<number> {
  if (typeof data !== "string") return await writeBytes(conn, data);
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (data.length * 3 > TEXT_BUFFER) return await writeBytes(conn, encoder.encode(data));
  const buffer = textBuffers.pop() ?? new Uint8Array(TEXT_BUFFER);
  try {
    const bytes = buffer.subarray(0, encoder.encodeInto(data, buffer).written);
    // Most writes take every byte at once: the loop is for the others.
    const written = await conn.write(bytes);
    return written === bytes.length
      ? written
      : written + await writeBytes(conn, bytes.subarray(written));
  } finally {
    if (textBuffers.length < 64) textBuffers.push(buffer);
  }
}

/** The write loop of {@link writeAll}. */
async function writeBytes(conn: Deno.Conn, bytes: Uint8Array): Promise<number> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(written === 0 ? bytes : bytes.subarray(written));
  }
  return written;
}

/** When the last "out of file descriptors" line was printed (ms). */
let lastDescriptorWarning = 0;
/** How long a server waits before it tries `accept` again after running out of descriptors (ms). */
export const ACCEPT_RETRY_MS = 100;

/**
 * `listener.accept()`, for a server that must live on whatever happens to one
 * client. Two failures are part of a server's life, and it goes on:
 * - a client reset its connection before the server took it (one line, and
 *   the next client is accepted);
 * - each connection takes a file descriptor, and a process has a limited
 *   number (`ulimit -n`): when they run out, it says so (once a second at
 *   most) and waits a little for clients to leave before trying again.
 * Any other failure is thrown.
 */
export async function acceptOrWait(listener: Deno.Listener): Promise<Deno.Conn> {
  while (true) {
    try {
      return await listener.accept();
    } catch (err) {
      const code = errorCode(err);
      if (code === "EMFILE" || code === "ENFILE") {
        if (Date.now() - lastDescriptorWarning > 1000) {
          printError(
            "Erreur: plus de descripteur de fichier libre (trop de connexions, voir ulimit -n) ; " +
              "les nouveaux clients attendent",
          );
          lastDescriptorWarning = Date.now();
        }
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      const lost = connectionLost(err);
      if (lost === null) throw err;
      printError(`Erreur: un client est parti avant d'être accepté (${lost})`);
    }
  }
}

/** A datagram and who sent it, as `receive` gives them. */
export type Datagram = [data: Uint8Array, from: Deno.NetAddr];

/** What a socket's receive in flight gives: a datagram, or its failure as a value. */
type Pending = { result: Promise<Datagram | Error>; settled: boolean };
/**
 * The receive in flight of each socket. A pending `receive` cannot be
 * cancelled: when a time limit wins, it stays in flight and the next wait
 * takes it over (a second one beside it could return datagrams out of order).
 */
const inFlight = new WeakMap<Deno.DatagramConn, Pending>();
/** Each socket's buffer, big enough for the largest datagram. */
const buffers = new WeakMap<Deno.DatagramConn, Uint8Array>();

function pendingReceive(socket: Deno.DatagramConn): Pending {
  let pending = inFlight.get(socket);
  if (pending === undefined) {
    let buffer = buffers.get(socket);
    if (buffer === undefined) buffers.set(socket, buffer = new Uint8Array(65536));
    const entry: Pending = {
      // Its failure is kept as a value, so that closing the socket is no unhandled rejection.
      result: socket.receive(buffer).then(
        ([data, from]) => [data.slice(), from as Deno.NetAddr] as Datagram,
        (err: Error) => err,
      ),
      settled: false,
    };
    entry.result.then(() => entry.settled = true);
    inFlight.set(socket, pending = entry);
  }
  return pending;
}

/**
 * The next datagram that `socket` receives, or null if none came before
 * `deadline` (a time from `Date.now()`): Stevens' `readable_timeo`.
 */
export async function receiveBefore(
  socket: Deno.DatagramConn,
  deadline: number,
): Promise<Datagram | null> {
  const pending = pendingReceive(socket);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), null);
  });
  const got = await Promise.race([pending.result, late]);
  clearTimeout(timer);
  if (got === null) {
    if (tracing) {
      traceNote(
        socket,
        "receive → rien avant l'heure limite : la demande ou sa réponse s'est perdue " +
          "(UDP ne dit pas laquelle) ; une réponse plus tardive sera jetée",
      );
    }
    return null;
  }
  inFlight.delete(socket);
  if (got instanceof Error) throw got;
  return got;
}

/**
 * Drops the datagrams that have already arrived and that nobody waited for:
 * replies that came after their time limit. Without this, the next request
 * would get the previous request's late reply, and every answer after it
 * would be one behind.
 */
export async function forgetLateReplies(socket: Deno.DatagramConn): Promise<void> {
  while (true) {
    const pending = pendingReceive(socket);
    // Let the event loop hand over what the system already holds.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (!pending.settled) return;
    inFlight.delete(socket);
    const got = await pending.result;
    if (got instanceof Error) throw got;
    if (tracing) {
      traceNote(socket, `datagramme de ${formatAddr(got[1])} arrivé après l'heure limite : jeté`);
    }
  }
}

/** Replies a UDP server sends to one IP address per second, at the most. */
export const REPLY_RATE = 200;
/** How many replies in a row one IP address may get before the rate applies. */
export const REPLY_BURST = 400;
/** Each source IP's allowance of replies ("token bucket"), and when it was last topped up. */
const allowances = new Map<string, { tokens: number; at: number; warned: number }>();

/**
 * Whether a UDP server should answer this datagram. Anyone can put any
 * source address on a datagram, so a server that answers everything can be
 * turned against itself or others:
 * - never answer our own address (it would talk to itself), nor port 0;
 * - never answer a datagram that is itself a reply (two servers would
 *   answer each other for ever);
 * - answer one IP address at most {@link REPLY_RATE} times a second, so that
 *   a forged source cannot make us flood someone (one line a second says so).
 */
export function worthAnswering(
  socket: Deno.DatagramConn,
  sender: Deno.Addr,
  request: Uint8Array,
  sentence: string,
): boolean {
  const own = socket.addr as Deno.NetAddr;
  const from = sender as Deno.NetAddr;
  const ip = plainIp(from.hostname);
  if (from.port === 0) return false;
  if (from.port === own.port && isLocal(ip)) return false;
  const head = encoder.encode(sentence);
  if (request.length >= head.length && head.every((byte, i) => request[i] === byte)) return false;
  const now = Date.now();
  let allowance = allowances.get(ip);
  if (allowance === undefined) {
    if (allowances.size >= 10_000) forgetQuietSources(now);
    allowances.set(ip, allowance = { tokens: REPLY_BURST, at: now, warned: 0 });
  }
  allowance.tokens = Math.min(
    REPLY_BURST,
    allowance.tokens + (now - allowance.at) * REPLY_RATE / 1000,
  );
  allowance.at = now;
  if (allowance.tokens >= 1) {
    allowance.tokens--;
    return true;
  }
  if (now - allowance.warned >= 1000) {
    allowance.warned = now;
    printError(
      `Erreur: plus de ${REPLY_RATE} datagrammes par seconde depuis ${ip} : ` +
        "ceux en trop restent sans réponse (protection contre les inondations)",
    );
  }
  return false;
}

/** Whether each IP address seen is one of this machine's. */
const local = new Map<string, boolean>();

/**
 * Whether `ip` is an address of this machine: the system lets a socket be
 * bound only to one of its own addresses. (Listing the interfaces would
 * need one more permission, `--allow-sys`.)
 */
function isLocal(ip: string): boolean {
  let known = local.get(ip);
  if (known === undefined) {
    try {
      // A socket of our own, not the lesson's: --trace does not show it.
      quietly(() => Deno.listenDatagram({ transport: "udp", hostname: ip, port: 0 }).close());
      known = true;
    } catch {
      known = false;
    }
    if (local.size < 1000) local.set(ip, known);
  }
  return known;
}

/** Forgets the sources whose allowance is full again: they sent nothing for a while. */
function forgetQuietSources(now: number): void {
  for (const [ip, allowance] of allowances) {
    if (allowance.tokens + (now - allowance.at) * REPLY_RATE / 1000 >= REPLY_BURST) {
      allowances.delete(ip);
    }
  }
}

/** ASCII white space, which `strip()` removes. */
const SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/**
 * The reply to a request: `sentence`, then the request's own bytes stripped
 * of surrounding white space (never re-encoded text, so never longer than the
 * sentence and the request), then "\n" if the request ended with one.
 */
export function answer(sentence: string, request: Uint8Array): Uint8Array {
  let from = 0;
  let to = request.length;
  while (from < to && SPACE.has(request[from])) from++;
  while (to > from && SPACE.has(request[to - 1])) to--;
  const head = encoder.encode(sentence);
  const newline = request[request.length - 1] === 0x0a ? 1 : 0;
  const reply = new Uint8Array(head.length + (to - from) + newline);
  reply.set(head);
  reply.set(request.subarray(from, to), head.length);
  if (newline) reply[reply.length - 1] = 0x0a;
  return reply;
}

/**
 * Whether two addresses are the same IP and port (an IPv4 address may come
 * IPv4-mapped). The UDP client asks it of each datagram, `a` being its sender
 * and `b` the server: with `--trace`, a datagram from anyone else is shown as ignored.
 */
export function sameAddress(a: Deno.NetAddr, b: Deno.NetAddr): boolean {
  const same = a.port === b.port && plainIp(a.hostname) === plainIp(b.hostname);
  if (!same && tracing) {
    traceNote(null, `datagramme de ${formatAddr(a)} ignoré : il ne vient pas de ${formatAddr(b)}`);
  }
  return same;
}

/** The system error code of an error (`EMFILE`, `ENOTFOUND`...), if it has one. */
export function errorCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/**
 * Says in French how a connection was lost, or returns null when the error is
 * not a lost connection (then it is a bug, or the program closed it itself).
 */
export function connectionLost(err: unknown): string | null {
  if (err instanceof Deno.errors.ConnectionReset) return "connexion réinitialisée par le pair";
  if (err instanceof Deno.errors.ConnectionAborted) return "connexion interrompue";
  if (err instanceof Deno.errors.BrokenPipe) return "connexion fermée par le pair pendant l'envoi";
  if (err instanceof Deno.errors.NotConnected) return "connexion fermée";
  if (err instanceof Deno.errors.TimedOut) return "connexion perdue (délai dépassé)";
  return null;
}
