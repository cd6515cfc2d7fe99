/**
 * terminal.ts -- what the programs need from the terminal they run in:
 * `print` a line, `input` a line, error lines, and a clean stop on Ctrl+C.
 *
 * `print` is the only output verb of the lessons. It does not write at once:
 * lines printed close together go out in one write, a few milliseconds later
 * (or as soon as 32 KiB wait), because a server that makes one write per
 * received line spends more time writing than receiving. A line printed after
 * a quiet moment (stdout idle, nothing written for {@link FLUSH_MS} ms) goes
 * out as soon as the code running now pauses, with no timer: a one-shot client
 * then ends without waiting for one. Everything that writes elsewhere
 * (`write`, `printError`, the stop, the exit) writes what waits first, so that
 * the order of the lines never changes and none is lost.
 *
 * @module
 */
import { EXIT } from "./exit.ts";
import type { LineReader } from "./lines.ts";
import { setReadPause } from "./pause.ts";
import { clearTimeout, setTimeout } from "./timers.ts";

const encoder = new TextEncoder();

/** How long a printed line may wait for others before it is written (ms). */
export const FLUSH_MS = 5;
/** How many characters may wait before they are encoded at once. */
const FLUSH_AT = 32768;

/**
 * Lines printed but not written yet: each line's label (its first part, the
 * same for many lines, such as "Reçu :") and the rest, and their length.
 */
let labels: string[] = [];
let rests: string[] = [];
let waitingChars = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;
/** Whether a flush is due once the code running now pauses (after a quiet moment). */
let flushSoon = false;
/** When lines were last encoded for stdout (ms). */
let lastFlush = 0;

/** Size of the buffers that lines are encoded into and written from (bytes). */
const CHUNK = 1 << 18;
/** An open chunk with no room: the next line makes {@link reserve} take a real one. */
const NO_ROOM = new Uint8Array(0);

/**
 * Bytes handed to stdout and not written yet: full chunks in `sealed`, then
 * the open chunk, which lines are encoded straight into. They are written by
 * asynchronous writes, one after the other, each taking all that waits: a
 * terminal or a pipe that stops reading (`| less`, Ctrl+S) then blocks a
 * write, never the program, so that Ctrl+C still works. A chunk once written
 * is kept in `spare` and filled again: a fresh buffer per write costs more
 * than the write.
 *
 * The open chunk starts small, and a chunk written is replaced only when
 * lines come (see {@link reserve}): a one-shot client prints one line, and
 * each 256 KiB buffer costs it a few tenths of a millisecond.
 */
const sealed: Uint8Array[] = [];
let open: Uint8Array = new Uint8Array(1024);
let openLength = 0;
const spare: Uint8Array[] = [];
let queued = 0;
let writing = false;
/** Called when every byte is written. */
const drainedWaiters: (() => void)[] = [];
/** Called when no more than {@link OUTPUT_LOW} bytes wait (servers that stopped reading). */
const lowWaiters: (() => void)[] = [];
/** Lines not printed because stdout did not keep up (UDP servers only; see {@link print}). */
let dropped = 0;

/** Beyond this many bytes waiting for stdout, servers stop reading their TCP clients. */
export const OUTPUT_HIGH = 1 << 20;
/**
 * Servers that stopped read again once no more than this many bytes wait: a
 * fresh read then overlaps the writes that are left, instead of waiting for
 * the last of them (with many clients, every one of them waits).
 */
export const OUTPUT_LOW = 1 << 18;
/** Beyond this many, a line is not printed but counted: only a source we cannot slow down gets there. */
const OUTPUT_LIMIT = 16 << 20;

/**
 * Prints a line, as Python's `print`: `print("Reçu :", text)` prints the two
 * parts separated by a space; `print(line)` prints the line. The text of
 * received bytes must have been made visible first (lib/text.ts;
 * `messages()` does it).
 */
export function print(label: string, text?: string): void {
  if (queued > OUTPUT_LIMIT) {
    dropped++;
    return;
  }
  if (text === undefined) {
    labels.push("");
    rests.push(label);
    waitingChars += label.length + 1;
  } else {
    labels.push(label);
    rests.push(text);
    waitingChars += label.length + text.length + 2;
  }
  // Many lines at once: encode them now (a flush still to come writes what follows).
  if (waitingChars >= FLUSH_AT) encodeWaiting();
  else if (flushTimer === undefined && !flushSoon) {
    // After a quiet moment, at once; else with the lines of the next few ms.
    if (!writing && queued === 0 && Date.now() - lastFlush >= FLUSH_MS) {
      flushSoon = true;
      queueMicrotask(() => flushSoon && flushOutput());
    } else {
      flushTimer = setTimeout(flushOutput, FLUSH_MS);
    }
  }
}

/** Cancels the flush to come; the timer functions are not touched if no timer was armed. */
function cancelFlush(): void {
  flushSoon = false;
  if (flushTimer === undefined) return;
  clearTimeout(flushTimer);
  flushTimer = undefined;
}

/** Writes `text` on stdout, without a "\n": a prompt such as ">>> ". */
export function write(text: string): void {
  flushOutput();
  send(encoder.encode(text));
}

/** Hands every line that {@link print} holds to stdout. */
export function flushOutput(start = true): void {
  cancelFlush();
  encodeWaiting(start);
}

/** Encodes the lines that wait into the open chunk, and (with `start`) starts writing. */
function encodeWaiting(start = true): void {
  if (rests.length === 0) return;
  lastFlush = Date.now();
  const bytes = encodeLines(labels, rests);
  labels = [];
  rests = [];
  waitingChars = 0;
  openLength += bytes.length;
  queued += bytes.length;
  if (start && !writing) pump();
}

/**
 * Writes at once, synchronously, what {@link print} holds, unless a write is
 * under way (then it goes out in its turn, as usual). For `--trace`: its
 * lines on stderr come after the lines printed before them, on a terminal too.
 */
export function flushOutputNow(): void {
  if (writing || queued > 0) return flushOutput();
  cancelFlush();
  if (rests.length === 0) return;
  const bytes = encodeLines(labels, rests);
  labels = [];
  rests = [];
  waitingChars = 0;
  try {
    writeAllSync(Deno.stdout, bytes);
  } catch (err) {
    stdoutFailed(err);
  }
}

/** Queues bytes for stdout, and starts writing them if no write is under way. */
function send(bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  reserve(bytes.length);
  open.set(bytes, openLength);
  openLength += bytes.length;
  queued += bytes.length;
  if (!writing) pump();
}

/** Makes room for `size` more bytes in the open chunk: a full one is sealed, to be written as it is. */
function reserve(size: number): void {
  if (open.length - openLength >= size) return;
  if (openLength > 0) sealed.push(open.subarray(0, openLength));
  open = size <= CHUNK ? spare.pop() ?? new Uint8Array(CHUNK) : new Uint8Array(size);
  openLength = 0;
}

/** The next bytes to write: a sealed chunk, or else what the open chunk holds. */
function takeQueued(): Uint8Array {
  if (sealed.length > 0) return sealed.shift()!;
  const bytes = open.subarray(0, openLength);
  open = spare.pop() ?? NO_ROOM;
  openLength = 0;
  return bytes;
}

async function pump(): Promise<void> {
  writing = true;
  try {
    while (queued > 0) {
      // One write for all that waits: each asynchronous write costs far more
      // than encoding its bytes, so few large ones go fastest.
      const bytes = takeQueued();
      let written = 0;
      while (written < bytes.length) written += await Deno.stdout.write(bytes.subarray(written));
      queued -= bytes.length;
      if (queued <= OUTPUT_LOW && lowWaiters.length > 0) wake(lowWaiters.splice(0));
      if (bytes.buffer.byteLength === CHUNK && spare.length < 6) {
        spare.push(new Uint8Array(bytes.buffer));
      }
      if (dropped > 0 && queued === 0) {
        const count = dropped;
        dropped = 0;
        send(encoder.encode(`(${count} lignes non affichées : la sortie ne suivait pas)\n`));
      }
    }
  } catch (err) {
    stdoutFailed(err);
  } finally {
    writing = false;
  }
  wake(lowWaiters.splice(0));
  wake(drainedWaiters.splice(0));
}

/** Calls each of `waiters`. */
function wake(waiters: (() => void)[]): void {
  for (const waiter of waiters) waiter();
}

/**
 * Stdout cannot be written. Closed (`| head -n 3` has read enough): the
 * program ends quietly, as `nc` and every Unix tool do. Anything else (a full
 * disk, `>/dev/full`): one French line, exit 1. Never blamed on the network.
 */
function stdoutFailed(err: unknown): never {
  sealed.length = 0;
  openLength = 0;
  queued = 0;
  if (err instanceof Deno.errors.BrokenPipe) Deno.exit(EXIT.OK);
  const why = (err as { code?: string }).code === "ENOSPC"
    ? "plus de place sur le disque"
    : err instanceof Error
    ? err.message
    : String(err);
  console.error("%c%s", "color: red", `Erreur: impossible d'écrire la sortie standard (${why})`);
  Deno.exit(EXIT.NETWORK);
}

/** Resolves once every byte handed to stdout is written. */
export function outputDrained(): Promise<void> {
  flushOutput();
  if (!writing && queued === 0) return Promise.resolve();
  return new Promise((resolve) => drainedWaiters.push(resolve));
}

// Servers read their clients no faster than stdout takes their lines.
setReadPause(() =>
  queued > OUTPUT_HIGH ? new Promise<void>((resolve) => lowWaiters.push(resolve)) : null
);

/**
 * Ends the program with `code` once stdout has taken what waits, but after
 * {@link EXIT_WAIT_MS} at the most: a blocked stdout never holds it.
 */
export async function exit(code: number, close: { close(): void }[] = []): Promise<never> {
  await Promise.race([
    outputDrained(),
    new Promise((resolve) => setTimeout(resolve, EXIT_WAIT_MS)),
  ]);
  for (const socket of close) {
    try {
      socket.close();
    } catch {
      // Closed already (BadResource): nothing left to do.
    }
  }
  exitNow(code);
}
/** How long an exit waits for stdout at the most (ms). */
export const EXIT_WAIT_MS = 300;

/**
 * Ends the program at once with `code`, for the exits that cannot wait for
 * stdout (a bad command line, a missing permission, a second Ctrl+C): what
 * waits is written first, synchronously, unless a write is under way (stdout
 * is then blocked, and writing beside it could mix the lines up). lib/ calls
 * this rather than `Deno.exit()`, except where stdout itself failed. (An
 * "unload" listener could do the same for every exit, but with one, Deno's
 * event dispatch costs every program about a millisecond as it ends.)
 */
export function exitNow(code: number): never {
  flushOutput(false);
  if (!writing) {
    try {
      while (queued > 0) {
        const bytes = takeQueued();
        queued -= bytes.length;
        writeAllSync(Deno.stdout, bytes);
      }
    } catch {
      // Stdout is gone: nothing more can be said.
    }
  }
  Deno.exit(code);
}

/** Writes every byte of `bytes` to a synchronous writer, however many calls it takes. */
export function writeAllSync(writer: { writeSync(p: Uint8Array): number }, bytes: Uint8Array) {
  let written = 0;
  while (written < bytes.length) written += writer.writeSync(bytes.subarray(written));
}

/**
 * Each label's ASCII stand-in (see {@link encodeLines}), and the bytes where
 * its UTF-8 differs from the stand-in's, as pairs: offset, real byte.
 */
const standIns = new Map<string, { stand: string; diff: number[] }>();
/**
 * How many labels {@link standIns} keeps (a few hundred bytes each). With -k
 * each client has its own ("[127.0.0.1:40000] Reçu :") and the clients print
 * in turn, so a cache smaller than their number misses on every line: with
 * 1000 clients and 256 kept, 5.4 µs a line instead of 0.3.
 */
const STAND_INS = 4096;

/** The ASCII stand-in of a label: each non-ASCII character becomes as many "#" as its UTF-8 bytes. */
function standIn(label: string): { stand: string; diff: number[] } {
  let known = standIns.get(label);
  if (known === undefined) {
    if (standIns.size >= STAND_INS) standIns.clear(); // -k: one label per client
    const stand = label.replace(/[^ -~]/gu, (c) => "#".repeat(encoder.encode(c).length));
    const bytes = encoder.encode(label);
    const diff: number[] = [];
    for (let k = 0; k < bytes.length; k++) {
      if (bytes[k] !== stand.charCodeAt(k)) diff.push(k, bytes[k]);
    }
    standIns.set(label, known = { stand, diff });
  }
  return known;
}

/** Flushes for which the fast path of {@link encodeLines} is not tried, after it failed. */
let skipFastPath = 0;

/**
 * The UTF-8 bytes of the lines `labels[i] + " " + rests[i]` (the rest alone
 * where the label is ""), each followed by "\n", at the end of the open chunk
 * (not yet counted as queued: the caller does).
 *
 * This is the hot path of a server under a fast stream, hence the care:
 * encoding text that holds a "ç" costs about 30 times more per byte than
 * pure ASCII text in Deno (`deno bench bench/encode_bench.ts`). A server's
 * lines share a few labels, such as "Reçu :", followed by ASCII text. Each
 * label is replaced by an ASCII stand-in of the same byte length
 * ("Re##u :"), the lines are encoded as ASCII, and the label's real bytes
 * are then written over each stand-in. If the text itself is not ASCII, the
 * lines are encoded the simple way.
 */
export function encodeLines(labels: string[], rests: string[]): Uint8Array {
  if (rests.length >= 8 && skipFastPath === 0) {
    const fast = encodeWithStandIns(labels, rests);
    if (fast !== null) return fast;
    skipFastPath = 32;
  } else if (skipFastPath > 0) {
    skipFastPath--;
  }
  const parts: string[] = [];
  for (let i = 0; i < rests.length; i++) {
    if (labels[i] !== "") parts.push(labels[i], " ");
    parts.push(rests[i], "\n");
  }
  return encodeText(parts.join(""));
}

/** `text` as UTF-8 at the end of the open chunk. */
function encodeText(text: string): Uint8Array {
  // Room for ASCII first (one byte per character), which is what servers print
  // most; the rest of the chunk is tried too. Text that did not fit is encoded
  // again in a chunk with room for the worst case, 3 bytes per UTF-16 code unit.
  reserve(text.length);
  let free = open.subarray(openLength);
  let { read, written } = encoder.encodeInto(text, free);
  if (read < text.length) {
    reserve(text.length * 3);
    free = open.subarray(openLength);
    written = encoder.encodeInto(text, free).written;
  }
  return free.subarray(0, written);
}

/** The fast path of {@link encodeLines}, or null when the lines are not ASCII beyond the labels. */
function encodeWithStandIns(labels: string[], rests: string[]): Uint8Array | null {
  const parts: string[] = [];
  // Lines come in runs that share a label: each run is joined in one go, its
  // stand-in between the lines, as one server's stream of "Reçu :" lines is.
  // Each run's end and stand-in (null without a label) serve again below.
  const runs: [end: number, known: { stand: string; diff: number[] } | null][] = [];
  for (let i = 0; i < rests.length;) {
    const label = labels[i];
    let j = i + 1;
    while (j < rests.length && labels[j] === label) j++;
    const run = rests.slice(i, j);
    if (label === "") {
      runs.push([j, null]);
      parts.push(run.join("\n"), "\n");
    } else {
      const known = standIn(label);
      runs.push([j, known]);
      const head = known.stand + " ";
      parts.push(head, run.join("\n" + head), "\n");
    }
    i = j;
  }
  const text = parts.join("");
  const bytes = encodeText(text);
  if (bytes.length !== text.length) return null; // not ASCII: the offsets below would be wrong
  // The labels' real bytes over their stand-ins: only the bytes that differ.
  let at = 0;
  let i = 0;
  for (const [end, known] of runs) {
    const head = known === null ? 0 : known.stand.length + 1;
    for (; i < end; i++) {
      if (known !== null) {
        for (let d = 0; d < known.diff.length; d += 2) {
          bytes[at + known.diff[d]] = known.diff[d + 1];
        }
      }
      at += head + rests[i].length + 1;
    }
  }
  return bytes;
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
  // stdin's lines always end: no quiet time. (lib/lines.ts is loaded only by the
  // programs that read lines: a one-shot UDP client never does.)
  stdinLines ??= new (await import("./lines.ts")).LineReader(Deno.stdin, { quietMs: 0 });
  const line = await stdinLines.readLine();
  if (stopping) return new Promise(() => {}); // Ctrl+C came first: the stop says goodbye
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

/** Registers work that a stop waits for before its last line. */
export function beforeStop(wait: () => Promise<void>): void {
  stopWaits.push(wait);
}

/** Whether the program is stopping (Ctrl+C): errors then no longer matter. */
let stopping = false;
export function isStopping(): boolean {
  return stopping;
}

/** How long a stop waits at the most for the servers to print what they had received (ms). */
export const STOP_WAIT_MS = 200;

/**
 * On Ctrl+C (SIGINT) or SIGTERM: closes `sockets`, lets the servers print
 * what they had received (a line without its "\n" yet included, as `nc`
 * does), prints `endLine` (the course's, such as "Fin du programme") and
 * exits with code 0, within a second whatever stdout does. The system closes
 * any other socket as the process ends. A second signal while stopping exits
 * at once with code 130.
 */
export function onStop(endLine: string, ...sockets: { close(): void }[]): void {
  const handler = async () => {
    if (stopping) exitNow(EXIT.INTERRUPTED);
    stopping = true;
    // (A program that never read a stream loads lib/lines.ts only now, and it has no reader.)
    const received = (await import("./lines.ts")).stopReaders();
    await Promise.race([received, new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS))]);
    for (const wait of stopWaits) await wait();
    print(endLine);
    // The sockets are closed at the very end: closed earlier, a pending accept() or
    // receive() would fail, and its error would be taken for a real one.
    await exit(EXIT.OK, sockets);
  };
  Deno.addSignalListener("SIGINT", handler);
  // Windows has no SIGTERM; Deno refuses to listen for it there.
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", handler);
}
