/**
 * client_output.ts -- reading what a student's client prints, for the client
 * exercises (TCP and UDP alike).
 *
 * @module
 */
import { REPLY_MS } from "./checks.ts";
import type { Student } from "./student.ts";
import { crashText, printedLines, REPLY } from "./text.ts";

/** The start of every reply: a line that holds it and not the whole reply shows a piece. */
export const REPLY_START = REPLY.slice(0, 24);

/**
 * Waits until the client's output satisfies `ready`. If it does not, ends its
 * input and lets it finish: a program whose output is buffered prints at exit.
 */
export async function showed(student: Student, ready: () => boolean): Promise<boolean> {
  if (await student.waitUntil(ready, REPLY_MS)) return true;
  if (student.status === null) {
    await student.closeStdin();
    await student.exitedWithin(REPLY_MS);
  }
  return ready();
}

/** A printed line with the start of `reply` but not all of it: a piece of the reply. */
export function pieceShown(stdout: string, reply: string): string | undefined {
  return printedLines(stdout).find((line) => line.includes(REPLY_START) && !line.endsWith(reply));
}

/** The client ended on an error: the sentence that says so, or null. */
export async function clientCrashed(
  student: Student,
  when: string,
  idea: string,
): Promise<string | null> {
  const status = student.status ?? await student.exitedWithin(500);
  if (status === null || status.success) return null;
  return `votre client s'est arrêté sur une erreur ${crashText(status, student.errorLine())} ` +
    `${when} : ${idea}`;
}
