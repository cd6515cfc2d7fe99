/**
 * lines.ts -- turns a TCP byte stream (or stdin) back into messages.
 *
 * TCP carries bytes, not messages: one `read` may return half a line, or three
 * lines, or a UTF-8 character cut in two. The workshop's Python takes each
 * `recv(1024)` as one message, which only works while lines are short and the
 * network is kind. This reader splits on "\n" instead:
 *
 * - a partial line is kept across reads, including a cut UTF-8 character;
 * - a trailing "\r" is removed, so `nc -C` and Windows clients print cleanly;
 * - a partial line that has waited {@link QUIET_MS} ms with no more bytes is a
 *   message too: the workshop's Python programs send each message in one
 *   `send()` with no newline at all, and expect an answer;
 * - a line longer than {@link MAX_LINE} characters comes out in pieces, so one
 *   peer cannot make the program hold an endless line in memory;
 * - at the end of the stream, a last line without "\n" is still a message.
 *
 * Bytes that are not valid UTF-8 become U+FFFD "�"; they never stop the reader.
 *
 * @module
 */

/** How long a partial line may wait for the rest before it counts as a message (ms). */
export const QUIET_MS = 100;
/** Longest message, in characters (UTF-16 code units); a longer line is cut in pieces. */
export const MAX_LINE = 65536;
/** Bytes asked for by each `read`; the buffer is allocated once per reader and reused. */
export const READ_SIZE = 16384;

/** Printed after a piece of a line cut at {@link MAX_LINE}: the next message carries on. */
export const CONTINUED = " [à suivre]";

/** One message taken from the stream. */
export interface Message {
  /** The text, without its "\n" or "\r\n". */
  text: string;
  /**
   * Why the message ended: a "\n"; the quiet time (the peer sent no newline);
   * the end of the stream; or the {@link MAX_LINE} limit, the next message
   * carrying on the same line.
   */
  end: "newline" | "quiet" | "eof" | "cut";
}

/** Anything with a `read` like `Deno.Conn` and `Deno.stdin`. */
export interface ByteReader {
  read(p: Uint8Array): Promise<number | null>;
}

/** Options of a {@link LineReader}. */
export interface LineReaderOptions {
  /** Quiet time in ms; 0 turns it off (for stdin, where lines always end). */
  quietMs?: number;
  /** Longest message in characters. */
  maxLine?: number;
  /** Size of the reused read buffer in bytes. */
  readSize?: number;
}

type ReadResult = { n: number | null } | { error: unknown };

/** Reads messages from a byte stream, as described in the module doc. */
export class LineReader {
  #reader: ByteReader;
  #buffer: Uint8Array;
  #quietMs: number;
  #maxLine: number;
  #decoder = new TextDecoder(); // not fatal: bad bytes become U+FFFD
  #partial = ""; // the start of a line whose "\n" has not come yet
  #pending: Promise<ReadResult> | null = null; // the read in flight, kept across quiet times
  #queue: Message[] = []; // messages read but not yet handed out by readLine()
  #afterQuiet = false; // the last message ended on the quiet time
  #failure: unknown = null; // the read that failed, thrown once the last line is out
  #done = false;

  /** Reads from `reader` (a `Deno.Conn`, `Deno.stdin`, ...). */
  constructor(reader: ByteReader, options: LineReaderOptions = {}) {
    this.#reader = reader;
    this.#quietMs = options.quietMs ?? QUIET_MS;
    this.#maxLine = options.maxLine ?? MAX_LINE;
    this.#buffer = new Uint8Array(options.readSize ?? READ_SIZE);
  }

  /**
   * The messages that one read completed, in order, or null once the stream
   * has ended. Servers print each batch in one write.
   */
  async read(): Promise<Message[] | null> {
    if (this.#queue.length > 0) return this.#queue.splice(0);
    while (!this.#done) {
      const messages = await this.#step();
      if (messages.length > 0) return messages;
    }
    return null;
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
  async #step(): Promise<Message[]> {
    if (this.#failure !== null) {
      this.#done = true;
      throw this.#failure;
    }
    // A pending read cannot be cancelled, so it is started once and kept until it
    // returns, even when the quiet time wins the race below. Its failure is caught
    // here, so that closing the socket never leaves an unhandled rejection.
    this.#pending ??= this.#reader.read(this.#buffer).then(
      (n) => ({ n }),
      (error) => ({ error }),
    );
    if (this.#partial !== "" && this.#quietMs > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const quiet = new Promise<"quiet">((resolve) => {
        timer = setTimeout(resolve, this.#quietMs, "quiet");
      });
      const first = await Promise.race([this.#pending, quiet]);
      clearTimeout(timer);
      if (first === "quiet") {
        this.#afterQuiet = true;
        return this.#flush("quiet");
      }
    }
    const result = await this.#pending;
    this.#pending = null;
    if ("error" in result) {
      // The connection broke (a reset, say). What had arrived of the last line
      // is still a message: hand it out first, and report the failure next time.
      this.#failure = result.error;
      this.#partial += this.#decoder.decode();
      const last = this.#flush("eof");
      if (last.length > 0) return last;
      this.#done = true;
      throw result.error;
    }
    if (result.n === null) {
      this.#done = true;
      this.#partial += this.#decoder.decode(); // a cut UTF-8 character becomes U+FFFD
      return this.#flush("eof");
    }

    // `stream: true` keeps the first bytes of a cut UTF-8 character for the next read.
    let text = this.#decoder.decode(this.#buffer.subarray(0, result.n), { stream: true });
    if (this.#afterQuiet && text !== "") {
      // The peer's newline came after the quiet time: it ends a message already given.
      this.#afterQuiet = false;
      if (text.startsWith("\n")) text = text.slice(1);
      else if (text.startsWith("\r\n")) text = text.slice(2);
    }
    const messages: Message[] = [];
    const last = text.lastIndexOf("\n");
    if (last !== -1) {
      // Decode once per read, then split: every "\n" but the last ends a line.
      const lines = (this.#partial + text.slice(0, last)).split("\n");
      for (const line of lines) this.#push(messages, line, "newline");
      text = text.slice(last + 1);
      this.#partial = "";
    }
    this.#partial += text;
    // A partial line may not grow past the limit: hand out its full pieces now.
    while (this.#partial.length > this.#maxLine) {
      const cut = this.#cutAt(this.#partial);
      messages.push({ text: this.#partial.slice(0, cut), end: "cut" });
      this.#partial = this.#partial.slice(cut);
    }
    return messages;
  }

  /** The partial line as a message of its own, if there is one. */
  #flush(end: "quiet" | "eof"): Message[] {
    const messages: Message[] = [];
    if (this.#partial !== "") this.#push(messages, this.#partial, end);
    this.#partial = "";
    return messages;
  }

  /** Adds a line without its "\r", in pieces if it is longer than the limit. */
  #push(messages: Message[], line: string, end: Message["end"]): void {
    if (line.endsWith("\r")) line = line.slice(0, -1);
    while (line.length > this.#maxLine) {
      const cut = this.#cutAt(line);
      messages.push({ text: line.slice(0, cut), end: "cut" });
      line = line.slice(cut);
    }
    messages.push({ text: line, end });
  }

  /** Where to cut a too-long line: at the limit, but never between two halves of a surrogate pair. */
  #cutAt(line: string): number {
    const code = line.charCodeAt(this.#maxLine - 1);
    return code >= 0xd800 && code <= 0xdbff ? this.#maxLine - 1 : this.#maxLine;
  }
}

/** A message as the programs print it: its text, marked when the line goes on in the next one. */
export function shown(message: Message): string {
  return message.end === "cut" ? message.text + CONTINUED : message.text;
}
