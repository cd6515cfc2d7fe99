/**
 * trace.ts -- `--trace`: what the sockets do, call by call, byte by byte, in
 * French, on stderr (stdout stays the course's output).
 *
 * {@link installTrace} replaces `Deno.listen`, `Deno.connect` and
 * `Deno.listenDatagram` with versions that return the real listener,
 * connection or socket wrapped in an object that does the same and writes one
 * line per call: milliseconds since the flags were read, the call in the
 * words of the lessons (`accept`, `read`, `write`, `closeWrite`, `close`,
 * `receive`, `send`), and what it gave: the bytes in hexadecimal and as text
 * (32 at most, control characters shown), a partial write, the FIN, a refusal,
 * a timeout. The lessons keep their plain socket calls and are not changed.
 *
 * Without `--trace` nothing here runs: the programs get Deno's own functions
 * and objects, and no socket call pays for a check.
 *
 * A busy socket stays readable: once one socket has written
 * {@link BURST} lines within a second, its reads and writes are counted
 * instead, and summed up in one line a second until it calms down. Other
 * events (a FIN, a close) are always shown, after the sum of what came before.
 *
 * What only the socket helpers know (the UDP client's time limit, a late
 * reply thrown away, a datagram from a stranger), lib/net.ts adds with
 * `traceNote()` of lib/tracing.ts, the small module that says whether the
 * trace is on. This one is loaded only on `--trace`: lib/flags.ts imports it
 * then, and nothing else in lib/ does.
 *
 * @module
 */
import { formatAddr, hostPort } from "./ip.ts";
import { flushOutputNow, writeAllSync } from "./terminal.ts";
import { isQuiet, startTracing, tracing } from "./tracing.ts";

export { quietly, traceNote, tracing } from "./tracing.ts";

/** Most bytes one line shows; the rest is counted: `… (+N octets)`. */
export const SHOWN_BYTES = 32;
/** Lines one socket may write within a second before its reads and writes are summed up. */
export const BURST = 20;
/** How long a summing-up period lasts (ms). */
const PERIOD_MS = 1000;

/** When the trace started (performance.now()): its times count from here. */
let origin = 0;

const encoder = new TextEncoder();

/** What the trace needs from the flags. */
export interface TraceOptions {
  /** `-k`: a server with many clients at once; each connection's lines start with its address. */
  keepOpen?: boolean;
  /** `--buffer-size` of a UDP server: its buffer has one byte more, to catch cut datagrams. */
  bufferSize?: number;
}

let options: TraceOptions = {};

/**
 * Turns the trace on for the rest of the program: from now on, the sockets
 * that `Deno.listen`, `Deno.connect` and `Deno.listenDatagram` return say what
 * they do. Called by `readFlags()` on `--trace`, before any socket.
 */
export function installTrace(traceOptions: TraceOptions = {}): void {
  if (tracing) return;
  startTracing(note);
  options = traceOptions;
  origin = performance.now();
  const listen = Deno.listen;
  const connect = Deno.connect;
  const listenDatagram = Deno.listenDatagram; // undefined without --unstable-net
  Deno.listen = ((opts: Deno.TcpListenOptions) => {
    if (isQuiet() || !isTcp(opts)) return listen(opts);
    const asked = hostPort(opts.hostname ?? "0.0.0.0", opts.port ?? 0);
    try {
      const listener = listen(opts);
      line(`socket TCP + bind ${asked} + listen : prête${bound(asked, listener.addr)}`);
      return new TracedListener(listener);
    } catch (err) {
      line(`socket TCP + bind ${asked} + listen → échec : ${why(err)}`);
      throw err;
    }
  }) as typeof Deno.listen;
  Deno.connect = (async (opts: Deno.ConnectOptions) => {
    if (isQuiet() || !isTcp(opts)) return connect(opts);
    const to = hostPort(opts.hostname ?? "127.0.0.1", opts.port);
    const start = performance.now();
    const took = () => `${decimal(performance.now() - start)} ms`;
    try {
      const conn = await connect(opts);
      line(
        `socket TCP + connect ${to} → connectée en ${took()} (poignée de main : SYN, SYN-ACK, ACK), ` +
          `depuis ${formatAddr(conn.localAddr)}`,
      );
      return new TracedConn(conn, SERVER, "");
    } catch (err) {
      if (err instanceof Deno.errors.ConnectionRefused) {
        line(
          `socket TCP + connect ${to} → refusée en ${took()} : personne n'écoute sur ce port ` +
            "(le système a répondu RST)",
        );
      } else if (err instanceof DOMException && err.name === "TimeoutError") {
        line(
          `socket TCP + connect ${to} → abandon après ${took()} : aucune réponse, ` +
            "même pas un refus (--timeout)",
        );
      } else {
        line(`socket TCP + connect ${to} → échec en ${took()} : ${why(err)}`);
      }
      throw err;
    }
  }) as typeof Deno.connect;
  if (typeof listenDatagram !== "function") return;
  Deno.listenDatagram = ((opts: Deno.UdpListenOptions & { transport: "udp" }) => {
    if (isQuiet() || opts.transport !== "udp") return listenDatagram(opts);
    const asked = hostPort(opts.hostname ?? "0.0.0.0", opts.port ?? 0);
    try {
      const socket = listenDatagram(opts);
      const where = bound(asked, socket.addr) ||
        " (ni listen ni accept : UDP n'a pas de connexion)";
      line(`socket UDP + bind ${asked} : prête${where}`);
      return new TracedDatagram(socket);
    } catch (err) {
      line(`socket UDP + bind ${asked} → échec : ${why(err)}`);
      throw err;
    }
  }) as typeof Deno.listenDatagram;
}

/** Whether `Deno.listen` or `Deno.connect` options are for TCP (the default), not Unix sockets. */
function isTcp(opts: object): boolean {
  const { transport } = opts as { transport?: string };
  return transport === undefined || transport === "tcp";
}

/** Each traced socket's flow of lines, so that lib/net.ts can add to it. */
const flows = new WeakMap<object, Flow>();

/** A note of lib/net.ts: a line among those of `socket` if it is a traced one, or on its own. */
function note(socket: object | null, text: string): void {
  const flow = socket === null ? undefined : flows.get(socket);
  if (flow) flow.event(text);
  else line(text);
}

// ---------------------------------------------------------------------------
// Lines

/** Writes one trace line on stderr, after what stdout holds, so the two stay in order. */
function line(text: string): void {
  const ms = decimal(performance.now() - origin).padStart(7);
  flushOutputNow();
  writeAllSync(Deno.stderr, encoder.encode(`[${ms} ms] ${text}\n`));
}

/**
 * The lines of one socket, with the summing-up of a busy stream: at most
 * {@link BURST} lines within a second, then one line a second that counts
 * the reads and writes not shown, until a second passes with fewer than
 * {@link BURST} of them.
 */
class Flow {
  #prefix: string;
  /** Start of the second in which lines are counted (ms). */
  #since = -Infinity;
  #lines = 0;
  #summing = false;
  #from = 0; // start of the period being summed up (ms)
  #skipped = new Map<string, { count: number; bytes: number; partial: number }>();
  #skippedCount = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** A read, write, receive or send of `bytes` bytes: its line, unless the flow is busy. */
  data(op: string, bytes: number, text: () => string, partial = false): void {
    if (!this.#summing) {
      const now = performance.now();
      if (now - this.#since >= PERIOD_MS) {
        this.#since = now;
        this.#lines = 0;
      }
      if (this.#lines < BURST) {
        this.#lines++;
        line(this.#prefix + text());
        return;
      }
      this.#summing = true;
      this.#from = now;
      this.#schedule();
    }
    let sum = this.#skipped.get(op);
    if (sum === undefined) this.#skipped.set(op, sum = { count: 0, bytes: 0, partial: 0 });
    sum.count++;
    sum.bytes += bytes;
    if (partial) sum.partial++;
    this.#skippedCount++;
  }

  /** Any other event: always shown, after the sum of what came before it. */
  event(text: string): void {
    this.#sum();
    if (this.#summing) {
      clearTimeout(this.#timer);
      this.#summing = false;
      this.#since = performance.now();
      this.#lines = 0;
    }
    line(this.#prefix + text);
  }

  /** Sums up in a second; a pending sum never keeps the program alive. */
  #schedule(): void {
    const timer = setTimeout(() => this.#tick(), PERIOD_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** The end of a second of summing-up: its line, and back to detail if the flow calmed down. */
  #tick(): void {
    const busy = this.#skippedCount >= BURST;
    this.#sum();
    if (busy) {
      this.#schedule();
    } else {
      this.#summing = false;
      this.#since = -Infinity;
    }
  }

  /** Writes the line that sums up the reads and writes not shown, if any. */
  #sum(): void {
    const now = performance.now();
    if (this.#skippedCount > 0) {
      const parts = [...this.#skipped].map(([op, { count, bytes, partial }]) =>
        `${grouped(count)} ${op} (${octets(bytes)}` +
        (partial > 0 ? `, dont ${grouped(partial)} partiel${partial > 1 ? "s" : ""})` : ")")
      );
      const seconds = decimal((now - this.#from) / 1000);
      line(`${this.#prefix}… de plus en ${seconds} s : ${parts.join(", ")}`);
    }
    this.#skipped.clear();
    this.#skippedCount = 0;
    this.#from = now;
  }
}

// ---------------------------------------------------------------------------
// TCP

/** Who is at the other end of a connection, in French. */
type Peer = { who: string; to: string };
const CLIENT: Peer = { who: "le client", to: "au client" };
const SERVER: Peer = { who: "le serveur", to: "au serveur" };

/** A listener that says what it does. */
class TracedListener implements Deno.TcpListener {
  #listener: Deno.TcpListener;
  #closed = false;

  constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
  }

  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  async accept(): Promise<Deno.TcpConn> {
    let conn: Deno.TcpConn;
    try {
      conn = await this.#listener.accept();
    } catch (err) {
      if (!this.#closed) line(`accept → échec : ${why(err)}`);
      throw err;
    }
    const peer = formatAddr(conn.remoteAddr);
    line(`accept → nouvelle socket pour ${peer} (la socket d'écoute reste ouverte)`);
    return new TracedConn(conn, CLIENT, options.keepOpen ? `[${peer}] ` : "");
  }

  close(): void {
    this.#listener.close();
    if (this.#closed) return;
    this.#closed = true;
    line("close (socket d'écoute) : plus d'accept, les clients suivants sont refusés");
  }

  ref(): void {
    this.#listener.ref();
  }

  unref(): void {
    this.#listener.unref();
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<Deno.TcpConn> {
    while (true) {
      try {
        yield await this.accept();
      } catch (err) {
        if (err instanceof Deno.errors.BadResource) return;
        throw err;
      }
    }
  }

  [Symbol.dispose](): void {
    if (!this.#closed) {
      this.#closed = true;
      line("close (socket d'écoute) : plus d'accept, les clients suivants sont refusés");
    }
    this.#listener[Symbol.dispose]();
  }
}

/**
 * A connection that says what it does. Its `readable` and `writable` streams
 * are the real ones, untraced: the lessons use `read` and `write`.
 */
class TracedConn implements Deno.TcpConn {
  #conn: Deno.TcpConn;
  /** Who is at the other end. */
  #peer: Peer;
  #flow: Flow;
  #finSent = false;
  #closed = false;

  constructor(conn: Deno.TcpConn, peer: Peer, prefix: string) {
    this.#conn = conn;
    this.#peer = peer;
    this.#flow = new Flow(prefix);
    flows.set(this, this.#flow);
  }

  get localAddr(): Deno.NetAddr {
    return this.#conn.localAddr;
  }

  get remoteAddr(): Deno.NetAddr {
    return this.#conn.remoteAddr;
  }

  get readable(): ReadableStream<Uint8Array<ArrayBuffer>> {
    return this.#conn.readable;
  }

  get writable(): WritableStream<Uint8Array<ArrayBufferLike>> {
    return this.#conn.writable;
  }

  async read(p: Uint8Array): Promise<number | null> {
    let n: number | null;
    try {
      n = await this.#conn.read(p);
    } catch (err) {
      if (!this.#closed) this.#flow.event(`read → échec : ${why(err)}`);
      throw err;
    }
    if (n === null) {
      this.#flow.event(
        `read → 0 octet : ${this.#peer.who} a fermé sa moitié de la connexion (FIN)`,
      );
    } else {
      const got = n;
      this.#flow.data("read", got, () => `read → ${octets(got)} : ${dump(p.subarray(0, got))}`);
    }
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    let n: number;
    try {
      n = await this.#conn.write(p);
    } catch (err) {
      if (!this.#closed) this.#flow.event(`write de ${octets(p.length)} → échec : ${why(err)}`);
      throw err;
    }
    const taken = n;
    if (taken < p.length) {
      this.#flow.data(
        "write",
        taken,
        () =>
          `write de ${octets(p.length)} → ${octets(taken)} seulement (écriture partielle : ` +
          `le tampon d'envoi est plein, le reste attend) : ${dump(p.subarray(0, taken))}`,
        true,
      );
    } else {
      this.#flow.data("write", taken, () => `write → ${octets(taken)} : ${dump(p)}`);
    }
    return n;
  }

  async closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (err) {
      this.#flow.event(`closeWrite → échec : ${why(err)}`);
      throw err;
    }
    this.#finSent = true;
    this.#flow.event("closeWrite → FIN envoyé : plus rien à écrire, mais on lit encore");
  }

  close(): void {
    this.#conn.close();
    this.#traceClose();
  }

  [Symbol.dispose](): void {
    this.#traceClose();
    this.#conn[Symbol.dispose]();
  }

  #traceClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    const fin = this.#finSent ? "" : ` (FIN envoyé ${this.#peer.to})`;
    this.#flow.event(`close${fin}`);
  }

  setNoDelay(noDelay?: boolean): void {
    this.#conn.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive?: boolean): void {
    this.#conn.setKeepAlive(keepAlive);
  }

  ref(): void {
    this.#conn.ref();
  }

  unref(): void {
    this.#conn.unref();
  }
}

// ---------------------------------------------------------------------------
// UDP

/** A UDP socket that says what it does. */
class TracedDatagram implements Deno.DatagramConn {
  #socket: Deno.DatagramConn;
  #flow = new Flow("");
  #closed = false;

  constructor(socket: Deno.DatagramConn) {
    this.#socket = socket;
    flows.set(this, this.#flow);
  }

  get addr(): Deno.Addr {
    return this.#socket.addr;
  }

  async receive(p?: Uint8Array): Promise<[Uint8Array<ArrayBuffer>, Deno.Addr]> {
    let got: [Uint8Array<ArrayBuffer>, Deno.Addr];
    try {
      got = await this.#socket.receive(p);
    } catch (err) {
      if (!this.#closed) this.#flow.event(`receive → échec : ${why(err)}`);
      throw err;
    }
    const [data, from] = got;
    const kept = options.bufferSize;
    if (p !== undefined && data.length === p.length && kept !== undefined && p.length > kept) {
      // The lessons' buffer has one byte more than --buffer-size: filled, the datagram was longer.
      this.#flow.data(
        "receive",
        data.length,
        () =>
          `receive → plus de ${octets(kept)} de ${formatAddr(from)} : datagramme coupé à ` +
          `--buffer-size ${kept}, la suite est perdue : ${dump(data.subarray(0, kept))}`,
      );
    } else {
      this.#flow.data(
        "receive",
        data.length,
        () => `receive → ${octets(data.length)} de ${formatAddr(from)} : ${dump(data)}`,
      );
    }
    return got;
  }

  async send(p: Uint8Array, to: Deno.Addr): Promise<number> {
    let n: number;
    try {
      n = await this.#socket.send(p, to);
    } catch (err) {
      this.#flow.event(`send de ${octets(p.length)} vers ${formatAddr(to)} → échec : ${why(err)}`);
      throw err;
    }
    this.#flow.data("send", n, () => `send → ${octets(n)} vers ${formatAddr(to)} : ${dump(p)}`);
    return n;
  }

  close(): void {
    this.#socket.close();
    if (this.#closed) return;
    this.#closed = true;
    this.#flow.event("close");
  }

  joinMulticastV4(address: string, networkInterface: string) {
    return this.#socket.joinMulticastV4(address, networkInterface);
  }

  joinMulticastV6(address: string, networkInterface: number) {
    return this.#socket.joinMulticastV6(address, networkInterface);
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<[Uint8Array<ArrayBuffer>, Deno.Addr]> {
    while (true) {
      try {
        yield await this.receive();
      } catch (err) {
        if (err instanceof Deno.errors.BadResource) return;
        throw err;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Words

/** What the system gave, where it differs from what was asked: port 0 becomes a real port. */
function bound(asked: string, got: Deno.Addr): string {
  const real = formatAddr(got);
  return real === asked ? "" : `, sur ${real} (port 0 : le système en a choisi un libre)`;
}

/** A number with a decimal comma and one decimal: 812,4. */
function decimal(n: number): string {
  return n.toFixed(1).replace(".", ",");
}

/** A count with its thousands apart, as French writes it: 5 678 901. */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** "0 octet", "1 octet", "9 octets". */
export function octets(n: number): string {
  return `${grouped(n)} octet${n > 1 ? "s" : ""}`;
}

/**
 * Bytes as the trace shows them: at most {@link SHOWN_BYTES} in hexadecimal,
 * the same as text between quotes (UTF-8, control characters shown as `\n`,
 * `\r`, `\x00`), then how many more: `61 62 0a  "ab\n"`.
 */
export function dump(bytes: Uint8Array): string {
  const shown = bytes.subarray(0, SHOWN_BYTES);
  const hex = Array.from(shown, (b) => b.toString(16).padStart(2, "0")).join(" ");
  // stream: a character cut at the 32nd byte is left out of the text (the hex has it).
  const text = new TextDecoder().decode(shown, { stream: bytes.length > SHOWN_BYTES });
  const more = bytes.length > SHOWN_BYTES ? ` … (+${octets(bytes.length - SHOWN_BYTES)})` : "";
  return `${hex}  "${escaped(text)}"${more}`;
}

/** Text with its control characters, backslashes and quotes written as escapes. */
function escaped(text: string): string {
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  return text.replace(/[\x00-\x1f\x7f-\x9f\\"]/g, (c) => {
    const known: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    if (c in known) return known[c];
    if (c === "\\" || c === '"') return `\\${c}`;
    const code = c.charCodeAt(0);
    return code < 0x80
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** A failure in a few French words, with the system's name for it. */
function why(err: unknown): string {
  const E = Deno.errors;
  if (err instanceof E.AddrInUse) return "adresse déjà utilisée (EADDRINUSE)";
  if (err instanceof E.AddrNotAvailable) return "adresse absente de cette machine (EADDRNOTAVAIL)";
  if (err instanceof E.PermissionDenied) return "accès refusé (EACCES)";
  if (err instanceof E.ConnectionRefused) return "connexion refusée (ECONNREFUSED)";
  if (err instanceof E.ConnectionReset) return "connexion réinitialisée par le pair (RST)";
  if (err instanceof E.ConnectionAborted) return "connexion interrompue (ECONNABORTED)";
  if (err instanceof E.BrokenPipe) return "le pair a fermé la connexion (EPIPE)";
  if (err instanceof E.NotConnected) return "socket non connectée (ENOTCONN)";
  if (err instanceof E.TimedOut) return "délai dépassé (ETIMEDOUT)";
  if (err instanceof E.BadResource) return "socket déjà fermée";
  if (err instanceof E.Interrupted) return "interrompu : la socket a été fermée";
  return err instanceof Error ? err.message : String(err);
}
