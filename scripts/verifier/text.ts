/**
 * text.ts -- the exercises' reply sentence, how replies received are compared
 * with those expected, and how what was seen is quoted in a French sentence.
 * No I/O here.
 *
 * @module
 */

/** The exercises' answer, before the message. */
export const REPLY = "Bonjour client, j'ai bien reçu ton message : ";

/**
 * How the replies received so far compare with one reply per message:
 * "complete" when they are all there, "partial" while what came can still
 * grow into them, "wrong" when it cannot.
 */
export type ReplyState = "complete" | "partial" | "wrong";

/**
 * Compares `received` with `prefix + message` for each message, in order. A
 * reply may end with "\n" or "\r\n" or nothing (the workshop's server sends no
 * newline, ours sends one when the request had one).
 */
export function matchReplies(received: string, prefix: string, messages: string[]): ReplyState {
  let pos = 0;
  const skipLineEnd = () => {
    if (received.startsWith("\r\n", pos)) pos += 2;
    else if (received[pos] === "\n") pos += 1;
  };
  for (const [i, message] of messages.entries()) {
    if (i > 0) skipLineEnd();
    const expected = prefix + message;
    const rest = received.slice(pos);
    if (rest.length < expected.length) return expected.startsWith(rest) ? "partial" : "wrong";
    if (!rest.startsWith(expected)) return "wrong";
    pos += expected.length;
  }
  const tail = received.slice(pos);
  return tail === "" || tail === "\n" || tail === "\r" || tail === "\r\n" ? "complete" : "wrong";
}

/**
 * Splits what a server sent into its replies: a new reply starts at each
 * `prefix`. Line ends are removed. Text before the first prefix counts as a reply.
 */
export function splitReplies(received: string, prefix: string): string[] {
  if (received === "") return [];
  const starts: number[] = [];
  for (
    let at = received.indexOf(prefix);
    at !== -1 && prefix !== "";
    at = received.indexOf(prefix, at + 1)
  ) {
    starts.push(at);
  }
  if (starts[0] !== 0) starts.unshift(0);
  return starts.map((start, i) => received.slice(start, starts[i + 1]).replace(/\r?\n$/, ""));
}

/** A text between French quotes, its line ends visible, shortened if long. */
export function quote(text: string, max = 90): string {
  let shown = text.replaceAll("\r", "\\r").replaceAll("\n", "\\n").replaceAll("\t", "\\t");
  const length = [...text].length;
  if ([...shown].length > max) {
    const chars = [...shown];
    shown = `${chars.slice(0, max - 25).join("")}…${chars.slice(-15).join("")}`;
    return `« ${shown} » (${length} caractères)`;
  }
  return `« ${shown} »`;
}

/** Several replies, quoted one after the other. */
export function quoteAll(texts: string[]): string {
  return texts.map((text) => quote(text, 60)).join(" puis ");
}

/** Whether `bytes` is valid UTF-8. */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The lines a client printed, without the prompts that `input(">>> ")` leaves
 * at their start, and without empty lines.
 */
export function printedLines(stdout: string): string[] {
  return stdout.split("\n")
    .map((line) => line.replace(/\r$/, "").replace(/^(\s*>>>\s?)+/, "").trimEnd())
    .filter((line) => line !== "");
}

/** Whether a printed line ends with `text` (a prompt or a time may come before it). */
export function printed(stdout: string, text: string): boolean {
  return printedLines(stdout).some((line) => line.endsWith(text));
}

/** The last line a program printed, quoted, or "rien". */
export function lastPrinted(stdout: string): string {
  const last = printedLines(stdout).at(-1);
  return last === undefined ? "rien" : quote(last);
}

/** How a program ended, in French: "code 1", or the signal that ended it. */
export function exitText(status: Deno.CommandStatus): string {
  return status.signal ? `arrêté par ${status.signal}` : `code ${status.code}`;
}

/** How a program ended, with its last error line if any: "(code 1 : ValueError: …)". */
export function crashText(status: Deno.CommandStatus, errorLine: string): string {
  return errorLine ? `(${exitText(status)} : ${quote(errorLine, 120)})` : `(${exitText(status)})`;
}
