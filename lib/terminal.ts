/**
 * terminal.ts -- what the programs need from the terminal they run in:
 * `print` a line, `input` a line, error lines, and a clean stop on Ctrl+C.
 *
 * `print` is the only output verb of the lessons. It does not write at once:
 * lines printed close together go out in one write, a few milliseconds later
 * (or as soon as 16 KiB wait), because a server that makes one write per
 * received line spends more time writing than receiving. Everything that
 * writes elsewhere (`write`, `printError`, the stop, the exit) writes what
 * waits first, so that the order of the lines never changes and none is lost.
 *
 * @module
 */
import { EXIT } from "./exit.ts";
import { LineReader } from "./lines.ts";

const encoder = new TextEncoder();

/** How long a printed line may wait for others before it is written (ms). */
export const FLUSH_MS = 5;
/** How many characters may wait before they are written at once. */
const FLUSH_AT = 16384;

/** Lines printed but not written yet, and their length with the "\n"s. */
let waiting: string[] = [];
let waitingChars = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;
/** The bytes of the last write, reused: a fresh buffer per write costs more than the write. */
let output = new Uint8Array(65536);

/** Prints one line on stdout (the "\n" is added), as Python's `print`. */
export function print(line: string): void {
  waiting.push(line);
  waitingChars += line.length + 1;
  if (waitingChars >= FLUSH_AT) flushOutput();
  else flushTimer ??= setTimeout(flushOutput, FLUSH_MS);
}

/** Writes `text` on stdout at once, without a "\n": a prompt such as ">>> ". */
export function write(text: string): void {
  flushOutput();
  writeAllSync(Deno.stdout, encoder.encode(text));
}

/** Writes every line that {@link print} holds. */
export function flushOutput(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  if (waiting.length === 0) return;
  const lines = waiting;
  waiting = [];
  waitingChars = 0;
  writeAllSync(Deno.stdout, encodeLines(lines));
}

// A program that exits (Deno.exit, or an error line and its exit code) writes what waits first.
globalThis.addEventListener("unload", flushOutput);

/** Writes every byte of `bytes` to a synchronous writer, however many calls it takes. */
export function writeAllSync(writer: { writeSync(p: Uint8Array): number }, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += writer.writeSync(bytes.subarray(written));
}

/** Flushes after which the fast path of {@link encodeLines} is not tried again for a while. */
let skipFastPath = 0;

/**
 * The UTF-8 bytes of `lines`, each followed by "\n", in the reused output buffer.
 *
 * This is the hot path of a server under a fast stream, hence the care:
 * encoding text that holds a "ç" costs about 30 times more per byte than
 * pure ASCII text in Deno (`deno bench bench/encode_bench.ts`). A server's
 * lines mostly share a label, such as `Reçu : `, followed by ASCII text. The
 * label's part up to its last non-ASCII character is replaced by an ASCII
 * stand-in of the same byte length ("Re##"), the lines are encoded as ASCII,
 * and the label's real bytes are then written over each stand-in. If the
 * text itself is not ASCII, the lines are encoded the simple way.
 */
export function encodeLines(lines: string[]): Uint8Array {
  if (lines.length >= 8 && skipFastPath === 0) {
    const fast = encodeWithStandIn(lines);
    if (fast !== null) return fast;
    skipFastPath = 32;
  } else if (skipFastPath > 0) {
    skipFastPath--;
  }
  const text = lines.join("\n") + "\n";
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (output.length < text.length * 3) output = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, output);
  return output.subarray(0, written);
}

/** The fast path of {@link encodeLines}, or null when the lines are not ASCII beyond the label. */
function encodeWithStandIn(lines: string[]): Uint8Array | null {
  const first = lines[0];
  let last = -1; // the last non-ASCII character of the first line's head
  for (let i = 0; i < first.length && i < 64; i++) if (first.charCodeAt(i) > 0x7f) last = i;
  const head = first.slice(0, last + 1);
  const stand = head.replace(/[^ -~]/gu, (c) => "#".repeat(encoder.encode(c).length));
  const parts = new Array<string>(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    parts[i] = head !== "" && line.startsWith(head) ? stand + line.slice(head.length) : line;
  }
  const text = parts.join("\n") + "\n";
  if (output.length < text.length * 3) output = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, output);
  if (written !== text.length) return null; // not ASCII: the byte offsets below would be wrong
  if (head !== "") {
    const bytes = encoder.encode(head);
    let at = 0;
    for (let i = 0; i < lines.length; i++) {
      if (parts[i] !== lines[i]) output.set(bytes, at);
      at += parts[i].length + 1;
    }
  }
  return output.subarray(0, written);
}

/** Stdin as lines, for {@link input}: made on the first call. */
let stdinLines: LineReader | null = null;

/**
 * Reads one line typed by the user, as Python's `input(prompt)`: shows the
 * prompt (on a terminal only: a pipe or a file gets no prompt), and returns
 * the line without its "\n", or null at the end of the input (Ctrl+D).
 * `prompt()` cannot do this: it returns null when stdin is not a terminal.
 */
export async function input(prompt: string): Promise<string | null> {
  const person = Deno.stdin.isTerminal();
  if (person) write(prompt);
  // stdin's lines always end: no quiet time.
  stdinLines ??= new LineReader(Deno.stdin, { quietMs: 0 });
  const line = await stdinLines.readLine();
  if (line === null && person) write("\n"); // after Ctrl+D, start a fresh line
  return line === null ? null : line.text;
}

/** Prints one error line to stderr, in red on a terminal (Deno drops the colour elsewhere). */
export function printError(line: string): void {
  flushOutput(); // the lines before the error come first
  console.error("%c%s", "color: red", line);
}

/** Things to wait for before a stop prints its last line (see {@link beforeStop}). */
const stopWaits: (() => Promise<void>)[] = [];

/** Registers work that a stop waits for before its last line, such as a partial line to print. */
export function beforeStop(wait: () => Promise<void>): void {
  stopWaits.push(wait);
}

/**
 * On Ctrl+C (SIGINT) or SIGTERM: closes `sockets`, prints `endLine` (the
 * course's, such as "Fin du programme") and exits with code 0. The system
 * closes any other socket as the process ends. A second signal while
 * stopping exits at once with code 130.
 */
export function onStop(endLine: string, ...sockets: { close(): void }[]): void {
  let stopping = false;
  const handler = async () => {
    if (stopping) Deno.exit(EXIT.INTERRUPTED);
    stopping = true;
    for (const socket of sockets) {
      try {
        socket.close();
      } catch {
        // Closed already (BadResource): nothing left to do.
      }
    }
    for (const wait of stopWaits) await wait();
    print(endLine);
    Deno.exit(EXIT.OK);
  };
  Deno.addSignalListener("SIGINT", handler);
  // Windows has no SIGTERM; Deno refuses to listen for it there.
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", handler);
}
