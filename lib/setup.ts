/**
 * setup.ts -- what a program makes sure of before its first socket call: that
 * Deno lets it use the network (and UDP), and that any error escaping it
 * prints one French line and exits with its code (lib/errors.ts).
 *
 * `readFlags()` (lib/flags.ts) calls all three. The French lines of
 * lib/errors.ts are loaded only when an error comes: a one-shot client that
 * works never pays for them.
 *
 * @module
 */
import type { ErrorContext } from "./errors.ts";
import { EXIT } from "./exit.ts";
import { runCommand } from "./program.ts";
import { exit, exitNow, isStopping, printError } from "./terminal.ts";

/**
 * Makes every error that escapes the program print its French line and exit
 * with its code. Call it once, right after reading the flags.
 */
export function exitOnErrors(ctx: ErrorContext): void {
  const handle = (event: Event, err: unknown) => {
    event.preventDefault();
    if (isStopping()) return; // Ctrl+C: the stop prints its own line and exits
    // The French lines are loaded only now: most runs never need them.
    import("./errors.ts").then(({ explain }) => {
      const { line, code } = explain(err, ctx);
      printError(line);
      exit(code);
    });
  };
  // A top-level `await` that throws arrives as an unhandled rejection.
  globalThis.addEventListener("unhandledrejection", (e) => handle(e, e.reason));
  globalThis.addEventListener("error", (e) => handle(e, e.error));
}

/**
 * Checks, before any socket call, that Deno lets the program do each of
 * `needs` (an address as Deno's permissions write it, and what the program
 * does there, in French). Otherwise prints one French line naming the address
 * refused and exits with code 3. `query` never prompts: on a terminal, the
 * socket call itself would show Deno's English permission prompt instead.
 */
export function requireNetAccess(needs: { address: string; doing: string }[], udp: boolean): void {
  for (const { address, doing } of needs) {
    if (Deno.permissions.querySync({ name: "net", host: address }).state === "granted") continue;
    const unstableNet = udp && typeof Deno.listenDatagram !== "function";
    printError(
      `Erreur: accès réseau non autorisé pour ${doing}. Lancez : ${runCommand("", unstableNet)}`,
    );
    exitNow(EXIT.SETUP);
  }
}

/**
 * UDP sockets are still "unstable" in Deno: without `--unstable-net` (or the
 * project's deno.json), `Deno.listenDatagram` does not exist. Say so in French.
 */
export function requireUnstableNet(): void {
  if (typeof Deno.listenDatagram === "function") return;
  printError(
    `Erreur: les sockets UDP de Deno demandent --unstable-net. Lancez : ${runCommand("", true)}`,
  );
  exitNow(EXIT.SETUP);
}
