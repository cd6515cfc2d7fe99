/**
 * lines.ts -- turns a TCP byte stream (or stdin) back into messages.
 *
 * TCP carries bytes, not messages: one `read` may return half a line, or three
 * lines, or a UTF-8 character cut in two. The workshop's Python takes each
 * `recv(1024)` as one message, which only works while lines are short and the
 * network is kind. This reader splits on "\n" instead, like Stevens'
 * `readline()`: the bytes of a line that has not ended stay at the front of
 * the buffer, and the next read appends to them.
 *
 * - a partial line is kept across reads, including a cut UTF-8 character;
 * - a trailing "\r" is removed, so `nc -C` and Windows clients print cleanly;
 * - a partial line that has waited {@link QUIET_MS} ms with no more bytes is a
 *   message too: the workshop's Python programs send each message in one
 *   `send()` with no newline at all, and expect an answer;
 * - a line longer than {@link MAX_LINE} bytes comes out in pieces, so one peer
 *   cannot make the program hold an endless line in memory;
 * - at the end of the stream, a last line without "\n" is still a message.
 *
 * Bytes that are not valid UTF-8 become U+FFFD "�"; they never stop the reader.
 *
 * The lessons use {@link messages}: `for await (const message of
 * messages(conn))`. It also shows control characters visibly (see text.ts),
 * reads no faster than stdout takes the lines (see terminal.ts), and on
 * Ctrl+C hands out what had arrived before the program stops.
 *
 * @module
 */
import { readPause } from "./pause.ts";
import { hasControl, visible } from "./text.ts";
import { clearTimeout, setTimeout } from "./timers.ts";

/** How long a partial line may wait for the rest before it counts as a message (ms). */
export const QUIET_MS = 100;
/**
 * How late a quiet time may fire before the program counts as having been
 * paused, and how long it then waits for bytes that already arrived (ms).
 */
const PAUSE_MS = 20;
/** Longest message, in bytes of UTF-8; a longer line is cut in pieces. */
export const MAX_LINE = 65536;
/**
 * First size of a reader's buffer, in bytes. It doubles each time a read
 * fills it, up to {@link MAX_READ}: a busy stream gets large reads, while an
 * idle connection, whose pending read holds its buffer, costs little memory
 * (1 KiB rather than 4 saves 3 MiB per 1000 idle connections).
 */
export const READ_SIZE = 1024;
/** Largest size a reader's buffer grows to, beyond the partial line it may hold (bytes). */
export const MAX_READ = 65536;

/**
 * Most bytes of complete lines one batch hands out (a longer line comes out
 * whole). A client that sends many tiny lines and never reads the replies
 * must not make a server hold them all as messages at once: the rest waits in
 * the buffer, as bytes, and is handed out by the next calls, without reading.
 */
export const MAX_BATCH_BYTES = 4096;

/** Printed after a piece of a line cut at {@link MAX_LINE}: the next message carries on. */
export const CONTINUED = " [à suivre]";

/** One message taken from the stream. */
export interface Message {
  /** The text, without its "\n" or "\r\n". */
  text: string;
  /** "\n" when the message ended with a newline or is a piece of a cut line, else "". */
  eol: "\n" | "";
  /**
   * Why the message ended: a "\n"; the quiet time (the peer sent no newline);
   * the end of the stream; or the {@link MAX_LINE} limit, the next message
   * carrying on the same line.
   */
  end: "newline" | "quiet" | "eof" | "cut";
}

/** The messages that one read completed, in order. */
export type Batch = Message[];

/** Anything with a `read` like `Deno.Conn` and `Deno.stdin`. */
export interface ByteReader {
  read(p: Uint8Array): Promise<number | null>;
}

/** Options of a {@link LineReader}. */
export interface LineReaderOptions {
  /** Quiet time in ms; 0 turns it off (for stdin, where lines always end). */
  quietMs?: number;
  /** Longest message in bytes. */
  maxLine?: number;
  /** First size of the read buffer in bytes. */
  readSize?: number;
  /** Show control characters visibly ("\r", "\x1b"; see lib/text.ts): for text from a peer. */
  visible?: boolean;
}

/** A read that failed, kept as a value (see `#startRead`). */
class ReadFailure {
  constructor(readonly error: unknown) {}
}
/** What a read gives: a byte count, null at the end of the stream, or its failure. */
type ReadResult = number | null | ReadFailure;

const NEWLINE = 0x0a;
const RETURN = 0x0d;
const encoder = new TextEncoder();

/**
 * Where to cut `bytes` at or before `at` so that no UTF-8 character is cut in
 * two: before the lead byte of a character that does not end by `at`. The cut
 * never goes back past `from`; with `mayBeEmpty` false it stays after `from`.
 */
function utf8Cut(bytes: Uint8Array, from: number, at: number, mayBeEmpty: boolean): number {
  for (let k = at - 1; k >= Math.max(from, at - 4); k--) {
    const byte = bytes[k];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return k + size > at && (k > from || mayBeEmpty) ? k : at;
  }
  return at;
}

// The fast path of LineReader.read() for Messages (see the static block of LineReader).
let pendingRead: (lines: LineReader) => Promise<ReadResult | "interrupted"> | null;
let afterRead: (
  lines: LineReader,
  result: ReadResult | "interrupted",
) => Batch | null | Promise<Batch | null>;

/** Reads messages from a byte stream, as described in the module doc. */
export class LineReader {
  #reader: ByteReader;
  #quietMs: number;
  #maxLine: number;
  #visible: boolean;
  #decoder = new TextDecoder(); // not fatal: bad bytes become U+FFFD
  #buffer: Uint8Array;
  #start = 0; // buffer[#start, #end) holds a line that has not ended yet
  #end = 0;
  #pending: Promise<ReadResult | "interrupted"> | null = null; // the read in flight, kept across quiet times
  #queue: Message[] = []; // messages read but not yet handed out by readLine()
  #afterQuiet = false; // the last message ended on the quiet time
  #failure: unknown = null; // the read that failed, thrown once the last line is out
  #done = false;
  #moreLines = false; // the buffer holds complete lines that the last batch left out
  #interrupted = false; // see interrupt()
  #wake: ((result: ReadResult | "interrupted") => void) | null = null; // settles the pending read

  /** Reads from `reader` (a `Deno.Conn`, `Deno.stdin`, ...). */
  constructor(reader: ByteReader, options: LineReaderOptions = {}) {
    this.#reader = reader;
    this.#quietMs = options.quietMs ?? QUIET_MS;
    this.#maxLine = options.maxLine ?? MAX_LINE;
    this.#visible = options.visible ?? false;
    this.#buffer = new Uint8Array(options.readSize ?? READ_SIZE);
  }

  /**
   * The messages that one read completed, in order, or null once the stream
   * has ended. Servers print each batch in one write.
   */
  read(): Promise<Batch | null> {
    return this.#pendingRead()?.then(this.#afterRead) ??
      (this.#queue.length > 0 ? Promise.resolve(this.#queue.splice(0)) : this.#readSteps());
  }

  /**
   * The usual case of {@link read}: no partial line waits, so there is no
   * quiet time to race against, and the batch is what the read itself
   * completes. Then the read in flight (started if need be), for one callback
   * ({@link #afterRead}) instead of the three async functions of the general
   * way ({@link #readSteps}); else null.
   */
  #pendingRead(): Promise<ReadResult | "interrupted"> | null {
    if (
      this.#queue.length > 0 || this.#done || this.#failure !== null || this.#moreLines ||
      this.#interrupted || (this.#end > this.#start && this.#quietMs > 0)
    ) return null;
    return this.#pending ??= this.#startRead();
  }

  /** The batch of the read of {@link #pendingRead}, or the general way if it completed none. */
  #afterRead = (result: ReadResult | "interrupted"): Batch | null | Promise<Batch | null> => {
    if (result === "interrupted") return null;
    const messages = this.#took(result);
    return messages.length > 0 ? messages : this.#readSteps();
  };

  static {
    // For messages(), in this module only: the fast path of read() in two parts.
    pendingRead = (lines) => lines.#pendingRead();
    afterRead = (lines, result) => lines.#afterRead(result);
  }

  /** {@link read} the general way: reads, or quiet times, until a batch or the end. */
  async #readSteps(): Promise<Batch | null> {
    while (!this.#done) {
      const messages = await this.#step();
      if (messages === null) return null; // interrupted
      if (messages.length > 0) return messages;
    }
    return null;
  }

  /**
   * Makes a read that waits, and every later one, return null at once: the
   * program is stopping. What the buffer holds is then had with {@link rest}.
   */
  interrupt(): void {
    this.#interrupted = true;
    this.#wake?.("interrupted");
  }

  /** The messages left in the buffer, the last line even without its "\n"; the reader is done. */
  rest(): Batch {
    const messages: Batch = [];
    for (let batch; (batch = this.#lines()).length > 0;) messages.push(...batch);
    messages.push(...this.#flush("eof"));
    this.#done = true;
    return messages;
  }

  /**
   * Waits for the pending read for `quietMs` at the most, or until
   * {@link interrupt}. A wait without a time limit awaits the pending read
   * itself, which {@link interrupt} settles too (see {@link #startRead}).
   */
  #waitQuiet(quietMs: number): Promise<ReadResult | "quiet" | "interrupted"> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, quietMs, "quiet");
      this.#pending!.then((result) => {
        clearTimeout(timer);
        resolve(result);
      });
    });
  }

  /** The next message, or null once the stream has ended. */
  async readLine(): Promise<Message | null> {
    if (this.#queue.length === 0) {
      const batch = await this.read();
      if (batch === null) return null;
      this.#queue = batch;
    }
    return this.#queue.shift() ?? null;
  }

  /** One read, or one quiet time, and the messages it completed (maybe none). */
  async #step(): Promise<Batch | null> {
    if (this.#failure !== null) {
      this.#done = true;
      throw this.#failure;
    }
    if (this.#moreLines && this.#pending === null) return this.#lines();
    if (this.#interrupted) return null;
    // A pending read cannot be cancelled, so it is started once and kept until it
    // returns, even when the quiet time wins the race below.
    this.#pending ??= this.#startRead();
    let result: ReadResult | "interrupted";
    if (this.#end > this.#start && this.#quietMs > 0) {
      const armed = Date.now();
      let first = await this.#waitQuiet(this.#quietMs);
      // The quiet time may have run out while this program itself was paused (a
      // busy machine, the garbage collector, Ctrl+Z), with the rest of the line
      // already arrived: a timer that fired late says so. Then give what waits a
      // moment to be handed over before deciding.
      if (first === "quiet" && Date.now() - armed > this.#quietMs + PAUSE_MS) {
        first = await this.#waitQuiet(PAUSE_MS);
      }
      if (first === "quiet") {
        this.#afterQuiet = true;
        return this.#flush("quiet");
      }
      result = first;
    } else {
      result = await this.#pending;
    }
    if (result === "interrupted") return null;
    return this.#took(result);
  }

  /** The messages that a read's `result` completes (maybe none); throws its failure if nothing is left. */
  #took(result: ReadResult): Batch {
    this.#pending = null;
    if (result instanceof ReadFailure) {
      // The connection broke (a reset, say). What had arrived of the last line
      // is still a message: hand it out first, and report the failure next time.
      this.#failure = result.error;
      const last = this.#flush("eof");
      if (last.length > 0) return last;
      this.#done = true;
      throw result.error;
    }
    if (result === null) {
      this.#done = true;
      return this.#flush("eof");
    }
    if (this.#afterQuiet && result > 0) {
      // The peer's newline came after the quiet time: it ends a message already given.
      this.#afterQuiet = false;
      const b = this.#buffer;
      if (b[this.#start] === NEWLINE) this.#start++;
      else if (b[this.#start] === RETURN && b[this.#start + 1] === NEWLINE) this.#start += 2;
    }
    const full = result === this.#buffer.length - this.#end;
    this.#end += result;
    const messages = this.#lines();
    // A partial line may not grow past the limit: hand out its full pieces now.
    while (!this.#moreLines && this.#end - this.#start > this.#maxLine) {
      const cut = utf8Cut(this.#buffer, this.#start, this.#start + this.#maxLine, false);
      messages.push({ text: this.#shown(this.#text(this.#start, cut)), eol: "\n", end: "cut" });
      this.#start = cut;
    }
    if (full && this.#buffer.length < MAX_READ + this.#maxLine) this.#grow();
    return messages;
  }

  /**
   * Starts a read into the free end of the buffer, after the partial line. Its
   * failure is kept as a value, so that closing the socket never leaves an
   * unhandled rejection, and {@link interrupt} settles it at once (the read
   * itself cannot be cancelled, and its bytes then no longer matter). A
   * promise per read, dropped after it: racing each read against one promise
   * that lives as long as the reader would pile a callback on that promise
   * per read, for as long as the connection lasts.
   */
  #startRead(): Promise<ReadResult | "interrupted"> {
    if (this.#start === this.#end) {
      this.#start = this.#end = 0; // every byte read was handed out: the usual case
    } else if (this.#start > 0) {
      // Move the partial line to the front (Stevens' readline does the same).
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buffer.length) this.#grow(); // a partial line fills the buffer
    // Most reads start on an empty buffer: hand it over whole, no new view needed.
    const free = this.#end === 0 ? this.#buffer : this.#buffer.subarray(this.#end);
    const settled = new Promise(this.#keepWake);
    this.#reader.read(free).then(this.#readDone, this.#readFailed);
    return settled;
  }

  // The callbacks of each read, made once: a read in flight is the only one (see #startRead).
  #keepWake = (resolve: (result: ReadResult | "interrupted") => void): void => {
    this.#wake = resolve;
  };
  #readDone = (result: number | null): void => this.#wake!(result);
  #readFailed = (error: unknown): void => this.#wake!(new ReadFailure(error));

  /** Doubles the buffer (no read may be pending). */
  #grow(): void {
    const bigger = new Uint8Array(Math.min(this.#buffer.length * 2, MAX_READ + this.#maxLine));
    bigger.set(this.#buffer.subarray(0, this.#end));
    this.#buffer = bigger;
  }

  /** The complete lines in the buffer, as messages. */
  #lines(): Batch {
    const b = this.#buffer;
    // The last "\n" within MAX_BATCH_BYTES, or else the first one: a long line comes out whole.
    const limit = Math.min(this.#end, this.#start + MAX_BATCH_BYTES);
    // (An empty buffer has no line: lastIndexOf(x, -1) would look from the end of the buffer.)
    let last = limit > this.#start ? b.lastIndexOf(NEWLINE, limit - 1) : -1;
    if (last < this.#start) {
      last = limit < this.#end ? b.subarray(0, this.#end).indexOf(NEWLINE, limit) : -1;
      if (last < this.#start) {
        this.#moreLines = false;
        return [];
      }
    }
    this.#moreLines = last + 1 < this.#end && limit < this.#end;
    // Decode once per batch, then split: every "\n" ends a line. The last "\n" is
    // left out, so that a batch of one line (a request, say) needs no split.
    const region = b.subarray(this.#start, last);
    const text = this.#decoder.decode(region);
    const returns = text.includes("\r");
    // One look at the whole batch: most reads hold no control character at all.
    const escape = this.#visible && hasControl(region);
    this.#start = last + 1;
    if (!text.includes("\n")) {
      // One line, as a request is: a batch of its exact size, no array to grow.
      const line = this.#shape(text, returns, escape);
      if (!this.#tooLong(line)) return [{ text: line, eol: "\n", end: "newline" }];
    }
    const messages: Batch = [];
    for (const line of text.split("\n")) this.#push(messages, this.#shape(line, returns, escape));
    return messages;
  }

  /** A line of {@link #lines} as it is shown: without its "\r", control characters visible. */
  #shape(line: string, returns: boolean, escape: boolean): string {
    if (returns && line.endsWith("\r")) line = line.slice(0, -1);
    return escape ? visible(line) : line;
  }

  /** Whether `line` is longer than the limit (possible only with a small maxLine). */
  #tooLong(line: string): boolean {
    return line.length * 3 > this.#maxLine && encoder.encode(line).length > this.#maxLine;
  }

  /** Pushes a line of {@link #lines} as a message, or in pieces if it is too long. */
  #push(messages: Batch, line: string): void {
    if (this.#tooLong(line)) this.#pushPieces(messages, line);
    else messages.push({ text: line, eol: "\n", end: "newline" });
  }

  /** The partial line as a message of its own, if there is one. */
  #flush(end: "quiet" | "eof"): Batch {
    let stop = this.#end;
    // At the quiet time, keep the first bytes of a character cut in two for the next read.
    if (end === "quiet") stop = utf8Cut(this.#buffer, this.#start, stop, true);
    if (stop <= this.#start) return [];
    let text = this.#text(this.#start, stop);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    this.#start = stop;
    return [{ text: this.#shown(text), eol: "", end }];
  }

  /** `text` as it is shown: control characters made visible, if this reader does. */
  #shown(text: string): string {
    return this.#visible ? visible(text) : text;
  }

  /** The text of buffer[from, to). */
  #text(from: number, to: number): string {
    return this.#decoder.decode(this.#buffer.subarray(from, to));
  }

  /** Pushes a too-long line in pieces of at most maxLine bytes. */
  #pushPieces(messages: Message[], line: string): void {
    const bytes = encoder.encode(line); // rare path: only with a small maxLine
    let from = 0;
    while (bytes.length - from > this.#maxLine) {
      const cut = utf8Cut(bytes, from, from + this.#maxLine, false);
      messages.push({
        text: this.#decoder.decode(bytes.subarray(from, cut)),
        eol: "\n",
        end: "cut",
      });
      from = cut;
    }
    messages.push({ text: this.#decoder.decode(bytes.subarray(from)), eol: "\n", end: "newline" });
  }
}

/** A message as the programs print it: its text, marked when the line goes on in the next one. */
export function shown(message: Pick<Message, "text" | "end">): string {
  return message.end === "cut" ? message.text + CONTINUED : message.text;
}

/** A message as the lessons see it. */
export interface Received {
  /** The text, without its "\n"; a piece of an over-long line ends with {@link CONTINUED}. */
  text: string;
  /**
   * "\n" when the message ended with a newline (or is a piece of a longer
   * line), "" when it did not: the peer paused, or closed, without one.
   */
  eol: "\n" | "";
}

/** Every {@link Messages} still reading. */
const active = new Set<Messages>();

/**
 * The program is stopping: every {@link messages} hands out what it had
 * received, its last line even without a "\n", then reads no more. Resolves
 * once each one's loop has taken it (and, say, printed it).
 */
export function stopReaders(): Promise<void> {
  return Promise.all([...active].map((messages) => messages.stop())).then(() => {});
}

/**
 * The messages of a byte stream, one at a time: `for await (const message of
 * messages(conn))`, or `await messages(conn).read()` for one. See the module
 * doc for how the stream is cut into messages.
 */
export function messages(reader: ByteReader, options: LineReaderOptions = {}): Messages {
  return new Messages(new LineReader(reader, { visible: true, ...options }));
}

/** The iterator of {@link messages}. */
export class Messages implements AsyncIterable<Received>, AsyncIterator<Received> {
  #lines: LineReader;
  #batch: Message[] = [];
  #at = 0;
  #stopping = false;
  #stopped: (() => void) | null = null;

  constructor(lines: LineReader) {
    this.#lines = lines;
    active.add(this);
  }

  /** The next message, or null once the stream has ended. */
  async read(): Promise<Received | null> {
    const next = await this.next();
    return next.done ? null : next.value;
  }

  /** The next batch of messages, then the first of them, after the read pause `pause`. */
  async #refill(pause: Promise<void> | null): Promise<IteratorResult<Received>> {
    if (pause !== null) await pause;
    let batch: Message[] | null;
    try {
      batch = this.#stopping ? null : await this.#lines.read();
    } catch (err) {
      return this.#failed(err);
    }
    return this.#deliver(batch);
  }

  /** The read failed: this reader is done, and the failure goes to the loop. */
  #failed = (err: unknown): never => {
    active.delete(this);
    throw err;
  };

  /** Takes `batch`, the reader's next batch (null at the end), and gives its first message. */
  #deliver = (batch: Message[] | null): IteratorResult<Received> | Promise<never> => {
    if (this.#stopping) {
      batch = [...(batch ?? []), ...this.#lines.rest()];
      if (batch.length === 0) {
        this.#stopped?.();
        return new Promise(() => {}); // the program ends meanwhile
      }
    } else if (batch === null) {
      active.delete(this);
      return { value: undefined, done: true };
    }
    this.#batch = batch;
    this.#at = 0;
    return { value: this.#take(), done: false };
  };

  /** See {@link stopReaders}. */
  stop(): Promise<void> {
    this.#stopping = true;
    this.#lines.interrupt();
    return new Promise((resolve) => this.#stopped = resolve);
  }

  /** For `for await`: the messages of one read come out without waiting again. */
  next(): Promise<IteratorResult<Received>> {
    if (this.#at < this.#batch.length) return Promise.resolve({ value: this.#take(), done: false });
    const pause = this.#stopping ? null : readPause();
    if (pause !== null || this.#stopping) return this.#refill(pause);
    // The usual case, with no pause: one callback on the read itself, no async function.
    return pendingRead(this.#lines)?.then(this.#onRead) ??
      this.#lines.read().then(this.#deliver, this.#failed);
  }

  /** The fast path of {@link next}: the read in flight is done. */
  #onRead = (
    result: ReadResult | "interrupted",
  ): Promise<IteratorResult<Received>> | IteratorResult<Received> => {
    let batch;
    try {
      batch = afterRead(this.#lines, result);
    } catch (err) {
      return this.#failed(err);
    }
    return batch instanceof Promise
      ? batch.then(this.#deliver, this.#failed)
      : this.#deliver(batch);
  };

  /** The next message of the batch: as the reader made it, but a piece of a cut line. */
  #take(): Received {
    const message = this.#batch[this.#at++];
    return message.end === "cut" ? { text: shown(message), eol: "\n" } : message;
  }

  /** A `for await` loop left early (`break`): this reader is no longer needed. */
  return(): Promise<IteratorResult<Received>> {
    active.delete(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<Received> {
    return this;
  }
}
