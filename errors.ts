/**
 * errors.ts -- exit codes, and the French line for each error a user meets.
 *
 * As with Stevens' wrappers (`Socket`, `Bind`, ...), the lessons call the socket
 * functions plainly and let this module turn a failure into one clear line and
 * a documented exit code, never a stack trace.
 *
 * @module
 */
import { printError } from "./terminal.ts";

/** Exit codes, the same for every program (see the README). */
export const EXIT = {
  /** Done, or stopped with Ctrl+C / SIGTERM. */
  OK: 0,
  /** A network error: server unavailable, port in use, unknown host, lost connection. */
  NETWORK: 1,
  /** A bad command line. */
  USAGE: 2,
  /** Deno was not given what the program needs: `--allow-net` or `--unstable-net`. */
  SETUP: 3,
  /** A second Ctrl+C while the program was stopping. */
  INTERRUPTED: 130,
} as const;

/** What a program was doing, to name it in the error line. */
export interface ErrorContext {
  /** Path of the script, e.g. `tcp_client.ts`. */
  program: string;
  /** Host and port the program listens on or connects to. */
  host: string;
  port: number;
  /** The line for "connection refused", when the workshop has its own wording. */
  refused?: string;
  /** Seconds a client waits for its connection (`--timeout`). */
  timeout?: number;
}

/** The system error code of an error (`EMFILE`, `ENOTFOUND`...), if it has one. */
function errorCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/** Turns an error into one French line and an exit code. */
export function explain(err: unknown, ctx: ErrorContext): { line: string; code: number } {
  const where = ctx.host.includes(":") ? `[${ctx.host}]:${ctx.port}` : `${ctx.host}:${ctx.port}`;
  const network = (line: string) => ({ line: `Erreur: ${line}`, code: EXIT.NETWORK });
  if (err instanceof Deno.errors.NotCapable && !/net access/.test(err.message) && err.message) {
    return { line: `Erreur: permission manquante : ${err.message}`, code: EXIT.SETUP };
  }
  if (err instanceof Deno.errors.NotCapable) {
    return {
      line: `Erreur: accès réseau non autorisé. Lancez : deno run --allow-net ${ctx.program}`,
      code: EXIT.SETUP,
    };
  }
  if (err instanceof Deno.errors.ConnectionRefused) {
    return { line: ctx.refused ?? `Erreur: connexion refusée par ${where}`, code: EXIT.NETWORK };
  }
  if (err instanceof Deno.errors.AddrInUse) {
    return network(
      `le port ${ctx.port} est déjà utilisé (un autre serveur tourne ? essayez --port 0)`,
    );
  }
  if (err instanceof Deno.errors.AddrNotAvailable) {
    return network(
      `l'adresse ${ctx.host} n'appartient pas à cette machine (essayez --host 0.0.0.0)`,
    );
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return network(`accès refusé à ${where} (les ports sous 1024 sont réservés à root)`);
  }
  if (err instanceof DOMException && err.name === "TimeoutError") {
    // Our own --timeout ran out: no answer at all, not even a refusal.
    const seconds = ctx.timeout?.toLocaleString("fr-FR") ?? "?";
    return network(
      `pas de réponse de ${where} après ${seconds} s (un pare-feu bloque-t-il le port ?)`,
    );
  }
  if (err instanceof Deno.errors.TimedOut) {
    return network(`pas de réponse de ${where} (délai dépassé)`);
  }
  if (err instanceof Deno.errors.NetworkUnreachable) {
    return network(`réseau injoignable pour ${where}`);
  }
  // getaddrinfo (node:dns) refuses a name lookup without the net permission.
  const code = errorCode(err);
  if (code === "EPERM" && /getaddrinfo/.test(String(err))) {
    return explain(new Deno.errors.NotCapable(), ctx);
  }
  if (
    err instanceof Error &&
    (/lookup address information/.test(err.message) || code === "ENOTFOUND" || code === "EAI_AGAIN")
  ) {
    return network(`hôte introuvable « ${ctx.host} » (vérifiez --host)`);
  }
  const lost = connectionLost(err);
  if (lost) return network(`${lost} (${where})`);
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return network(`inattendue : ${text}`);
}

/**
 * Says in French how a connection was lost, or returns null when the error is
 * not a lost connection (then it is a bug, or the program closed it itself).
 */
export function connectionLost(err: unknown): string | null {
  if (err instanceof Deno.errors.ConnectionReset) return "connexion réinitialisée par le pair";
  if (err instanceof Deno.errors.ConnectionAborted) return "connexion interrompue";
  if (err instanceof Deno.errors.BrokenPipe) return "connexion fermée par le pair pendant l'envoi";
  if (err instanceof Deno.errors.NotConnected) return "connexion fermée";
  if (err instanceof Deno.errors.TimedOut) return "connexion perdue (délai dépassé)";
  return null;
}

/**
 * Makes every error that escapes the program print its French line and exit
 * with its code. Call it once, right after reading the flags.
 */
export function exitOnErrors(ctx: ErrorContext): void {
  const handle = (event: Event, err: unknown) => {
    event.preventDefault();
    const { line, code } = explain(err, ctx);
    printError(line);
    Deno.exit(code);
  };
  // A top-level `await` that throws arrives as an unhandled rejection.
  globalThis.addEventListener("unhandledrejection", (e) => handle(e, e.reason));
  globalThis.addEventListener("error", (e) => handle(e, e.error));
}

/** When the last "out of file descriptors" line was printed (ms). */
let lastDescriptorWarning = 0;
/** How long a server waits before it tries `accept` again after running out of descriptors (ms). */
export const ACCEPT_RETRY_MS = 100;

/**
 * `accept` failed. Two reasons are part of a server's life, and it goes on:
 * - a client reset its connection before the server took it;
 * - each connection takes a file descriptor, and a process has a limited
 *   number (`ulimit -n`): when they run out, say so (once a second at most)
 *   and wait a little for clients to leave before trying again.
 * Any other failure is rethrown.
 */
export async function acceptFailed(err: unknown): Promise<void> {
  const code = errorCode(err);
  if (code === "EMFILE" || code === "ENFILE") {
    if (Date.now() - lastDescriptorWarning > 1000) {
      printError(
        "Erreur: plus de descripteur de fichier libre (trop de connexions, voir ulimit -n) ; " +
          "les nouveaux clients attendent",
      );
      lastDescriptorWarning = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
    return;
  }
  const lost = connectionLost(err);
  if (lost === null) throw err;
  printError(`Erreur: un client est parti avant d'être accepté (${lost})`);
}

/**
 * UDP sockets are still "unstable" in Deno: without `--unstable-net` (or the
 * project's deno.json), `Deno.listenDatagram` does not exist. Say so in French.
 */
export function requireUnstableNet(program: string): void {
  if (typeof Deno.listenDatagram === "function") return;
  printError(
    `Erreur: les sockets UDP de Deno demandent --unstable-net. Lancez : ` +
      `deno run --allow-net --unstable-net ${program}`,
  );
  Deno.exit(EXIT.SETUP);
}
