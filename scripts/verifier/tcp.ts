/**
 * tcp.ts -- the verifier's side of a TCP conversation: a connection that
 * collects what it receives and lets a check wait for it, a listener for the
 * client exercises, and a way to send one message as two segments.
 *
 * @module
 */
import { unreadBytes } from "./procfs.ts";
import { Student, waitFor } from "./student.ts";

const encoder = new TextEncoder();
/** How long one connection attempt may take (on 127.0.0.1, it is answered at once). */
const CONNECT_MS = 5000;
/**
 * The longest pause between two pieces of a message that still counts as
 * "at once": well below the 100 ms after which our own programs take a
 * partial line for a message (the workshop's client sends no newline).
 */
export const SPLIT_GAP_MS = 40;
/** How many times a check that splits a message tries, when the machine is too busy to tell. */
export const SPLIT_TRIES = 5;
const decoder = new TextDecoder(); // not fatal: bad bytes become U+FFFD

/** A connection, with everything received so far. */
export class Link {
  readonly #conn: Deno.TcpConn;
  #received = new Uint8Array(4096);
  #length = 0;
  /** Where the bytes not yet taken by `takeRequest` start. */
  #taken = 0;
  /** "eof" once the peer has closed its side, "reset" if the connection broke. */
  ended: "no" | "eof" | "reset" = "no";
  #closed = false;
  readonly #reading: Promise<void>;
  readonly #wakers = new Set<() => void>();

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    // Each write leaves as its own segment: the checks that split a message need it.
    conn.setNoDelay(true);
    this.#reading = this.#readLoop();
  }

  /**
   * Connects to 127.0.0.1:`port`, retrying until `ms` have passed or the
   * program has ended (at least once). The first connection accepted is the
   * proof that the server listens (its output says nothing reliable: Python
   * buffers it).
   */
  static async connectUntil(port: number, ms: number, student: Student): Promise<Link | null> {
    const deadline = Date.now() + ms;
    do {
      try {
        // A generous limit per try: a connection that the kernel completed and that we dropped
        // would be the one client the workshop's server accepts.
        const conn = await Deno.connect({
          hostname: "127.0.0.1",
          port,
          signal: AbortSignal.timeout(CONNECT_MS),
        });
        return new Link(conn);
      } catch {
        // Refused: nothing listens yet. Try again soon.
        await student.exitedWithin(Math.max(0, Math.min(50, deadline - Date.now())));
      }
    } while (Date.now() < deadline && student.status === null);
    return null;
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.#conn.read(buffer);
        if (n === null) {
          this.ended = "eof";
          break;
        }
        this.#append(buffer.subarray(0, n));
      }
    } catch {
      if (!this.#closed) this.ended = "reset";
    }
    this.#wake();
  }

  #append(bytes: Uint8Array): void {
    if (this.#length + bytes.length > this.#received.length) {
      const bigger = new Uint8Array(
        Math.max(this.#received.length * 2, this.#length + bytes.length),
      );
      bigger.set(this.#received.subarray(0, this.#length));
      this.#received = bigger;
    }
    this.#received.set(bytes, this.#length);
    this.#length += bytes.length;
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
  }

  /** Our port, and the peer's. */
  get localPort(): number {
    return this.#conn.localAddr.port;
  }
  get remotePort(): number {
    return this.#conn.remoteAddr.port;
  }

  /** Every byte received so far. */
  get bytes(): Uint8Array {
    return this.#received.subarray(0, this.#length);
  }

  /** Everything received so far, as text. */
  text(): string {
    return decoder.decode(this.bytes);
  }

  /** Waits until `ready()` holds, re-checked at each arrival; false after `ms` or at the end. */
  waitUntil(ready: () => boolean, ms: number): Promise<boolean> {
    return waitFor(() => ready() || this.ended !== "no", ms, (wake) => {
      this.#wakers.add(wake);
      return () => this.#wakers.delete(wake);
    }).then(() => ready());
  }

  /** Sends every byte; false if the peer is gone. */
  async send(data: string | Uint8Array): Promise<boolean> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    try {
      for (let sent = 0; sent < bytes.length;) {
        sent += await this.#conn.write(bytes.subarray(sent));
      }
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends `first`, waits until the peer's program has read it, then sends
   * `second` at once: the peer gets them in two reads, as from a real network,
   * and without a pause that a program waiting for the rest of a message could
   * take for its end.
   *
   * Returns whether that held: false when the second piece reached the
   * program, or was read by it, more than SPLIT_GAP_MS after it read the
   * first (a busy machine slowed the verifier or the program), so that a
   * program that answers the first piece alone may have been right to. A
   * program that never reads the second piece did not wait for it: true.
   * Where /proc is missing, a 30 ms pause stands in, and the result is true.
   */
  async sendInTwo(first: Uint8Array, second: Uint8Array): Promise<boolean> {
    // The peer's socket is the one from its port to ours.
    const unread = () => unreadBytes(this.remotePort, this.localPort);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    if (!await this.send(first)) return true;
    // The last moment the first piece was seen unread: the peer read it later.
    let seenUnread = Date.now();
    for (const deadline = seenUnread + 2000; Date.now() < deadline;) {
      const bytes = await unread();
      if (bytes === null) {
        await pause(30);
        await this.send(second);
        return true;
      }
      if (bytes === 0) break;
      seenUnread = Date.now();
      await pause(1);
    }
    if (!await this.send(second)) return true;
    if (Date.now() - seenUnread > SPLIT_GAP_MS) return false;
    for (const deadline = Date.now() + 2000; Date.now() < deadline;) {
      if (await unread() === 0) return Date.now() - seenUnread <= SPLIT_GAP_MS;
      await pause(1);
    }
    return true; // never read: the program did not wait for the rest
  }

  /**
   * Takes the next request of a client: up to a "\n", or all that came if it
   * is `expected` (the workshop's client sends no "\n"), or whatever came
   * within `ms`. Returns its text without the line end, and whether it had one;
   * null if nothing came.
   */
  async takeRequest(
    expected: string,
    ms: number,
  ): Promise<{ text: string; newline: boolean } | null> {
    const pending = () => this.bytes.subarray(this.#taken);
    const complete = () => pending().includes(0x0a) || decoder.decode(pending()) === expected;
    await this.waitUntil(complete, ms);
    const bytes = pending();
    if (bytes.length === 0) return null;
    const end = bytes.indexOf(0x0a);
    const taken = end === -1 ? bytes : bytes.subarray(0, end + 1);
    this.#taken += taken.length;
    const text = decoder.decode(taken);
    const newline = text.endsWith("\n");
    return { text: text.replace(/\r?\n$/, ""), newline };
  }

  /**
   * Closes the connection. If the peer closed first, one more byte goes out
   * before: the peer's kernel answers it with a reset and forgets the
   * connection, instead of keeping the port in TIME_WAIT for a minute, which
   * would stop a restarted server without SO_REUSEADDR from binding it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.ended === "eof") await this.send("\n");
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    await this.#reading; // the pending read ends with the connection
  }
}

/** The verifier's listening socket, when it plays the server. */
export class Acceptor {
  readonly #listener: Deno.Listener<Deno.TcpConn>;
  #pending: Promise<Deno.TcpConn | null> | null = null;

  private constructor(listener: Deno.Listener<Deno.TcpConn>) {
    this.#listener = listener;
  }

  /** Listens on 127.0.0.1:`port` (throws Deno.errors.AddrInUse if the port is taken). */
  static open(port: number): Acceptor {
    return new Acceptor(Deno.listen({ hostname: "127.0.0.1", port }));
  }

  /** The next connection, or null if none came within `ms` or the program ended first. */
  async accept(ms: number, student: Student): Promise<Link | null> {
    this.#pending ??= this.#listener.accept().catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<null>((resolve) => timer = setTimeout(resolve, ms, null));
    const exited = student.exitedWithin(ms).then(() => null);
    const conn = await Promise.race([this.#pending, gaveUp, exited]);
    clearTimeout(timer);
    if (conn === null) {
      // The program may have connected just before it ended: take that connection.
      const late = await Promise.race([this.#pending, Promise.resolve(null)]);
      if (late === null) return null;
      this.#pending = null;
      return new Link(late);
    }
    this.#pending = null;
    return new Link(conn);
  }

  /** Stops listening, and waits for a pending accept to end (until then, the port stays taken). */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    await this.#pending;
  }
}
