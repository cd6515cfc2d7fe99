/**
 * udp.ts -- the verifier's UDP socket: it keeps every datagram it receives,
 * with its sender, and lets a check wait for them.
 *
 * @module
 */
import { waitFor } from "./student.ts";

const encoder = new TextEncoder();

/** A datagram received, and who sent it. */
export interface Datagram {
  data: Uint8Array;
  from: Deno.NetAddr;
}

/** A UDP socket on 127.0.0.1 and the datagrams it has received. */
export class Mailbox {
  readonly #socket: Deno.DatagramConn;
  /** Every datagram received, oldest first; checks may take them out. */
  readonly datagrams: Datagram[] = [];
  #closed = false;
  #loop: Promise<void> = Promise.resolve();
  readonly #wakers = new Set<() => void>();

  private constructor(socket: Deno.DatagramConn) {
    this.#socket = socket;
    this.#loop = this.#receiveLoop();
  }

  /** Binds 127.0.0.1:`port` (0: any free port). Throws Deno.errors.AddrInUse if taken. */
  static open(port = 0): Mailbox {
    return new Mailbox(Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }));
  }

  async #receiveLoop(): Promise<void> {
    const buffer = new Uint8Array(65536); // the largest datagram fits
    while (!this.#closed) {
      try {
        const [data, from] = await this.#socket.receive(buffer);
        this.datagrams.push({ data: data.slice(), from: from as Deno.NetAddr });
        for (const wake of this.#wakers) wake();
      } catch {
        if (this.#closed) break; // closed by us
        await new Promise((resolve) => setTimeout(resolve, 10)); // a passing error: try again
      }
    }
  }

  /** Our port. */
  get port(): number {
    return (this.#socket.addr as Deno.NetAddr).port;
  }

  /** Sends one datagram to 127.0.0.1:`port`, or to `to`. */
  async send(data: string | Uint8Array, to: number | Deno.NetAddr): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const addr: Deno.NetAddr = typeof to === "number"
      ? { transport: "udp", hostname: "127.0.0.1", port: to }
      : to;
    await this.#socket.send(bytes, addr).catch(() => {});
  }

  /** Waits until `ready()` holds, re-checked at each datagram; false after `ms`. */
  waitUntil(ready: () => boolean, ms: number): Promise<boolean> {
    return waitFor(ready, ms, (wake) => {
      this.#wakers.add(wake);
      return () => this.#wakers.delete(wake);
    });
  }

  /**
   * Takes the next datagram, waiting at most `ms` for it; gives up sooner once
   * `over()` holds (checked every 250 ms: the student's program has ended).
   */
  async next(ms: number, over: () => boolean = () => false): Promise<Datagram | undefined> {
    const deadline = Date.now() + ms;
    while (this.datagrams.length === 0 && !over() && Date.now() < deadline) {
      await this.waitUntil(() => this.datagrams.length > 0, Math.min(250, deadline - Date.now()));
    }
    return this.datagrams.shift();
  }

  /**
   * Closes the socket, and waits for its pending receive to fail: until then
   * Deno keeps the socket open, and its port taken.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#socket.close();
      } catch {
        // Already closed.
      }
    }
    await this.#loop;
  }
}
