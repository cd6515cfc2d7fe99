/**
 * errors.ts -- the French line and the exit code for each error a user meets.
 *
 * As with Stevens' wrappers (`Socket`, `Bind`, ...), the lessons call the socket
 * functions plainly and let this module turn a failure into one clear line and
 * a documented exit code, never a stack trace. lib/setup.ts loads it the
 * first time an error escapes a program (a one-shot client that works never
 * needs it); servers import it for the clients they lose.
 *
 * @module
 */
import { EXIT } from "./exit.ts";
import { runCommand } from "./program.ts";
import { formatAddr, hostPort, MAX_DATAGRAM } from "./ip.ts";
import { connectionLost, errorCode } from "./net.ts";
import { printError } from "./terminal.ts";

/** What a program was doing, to name it in the error line. */
export interface ErrorContext {
  /** Host and port the program listens on or connects to. */
  host: string;
  port: number;
  /** The line for "connection refused", when the workshop has its own wording. */
  refused?: string;
  /** Seconds a client waits for its connection (`--timeout`). */
  timeout?: number;
}

/** The address Deno refused: `Requires net access to "127.0.0.1:5000", ...`. */
function refusedAddress(err: Error): string | undefined {
  return /net access to "([^"]+)"/.exec(err.message)?.[1];
}

/** Why a datagram could not leave, in French, when the reason is one a user can act on. */
function whyNotSent(err: unknown): string | null {
  if (errorCode(err) === "EMSGSIZE") {
    return `message trop long pour un datagramme UDP (${MAX_DATAGRAM} octets au plus)`;
  }
  if (err instanceof Deno.errors.NotCapable && refusedAddress(err)) {
    return `accès réseau non autorisé à ${refusedAddress(err)}`;
  }
  return null;
}

/** Turns an error into one French line and an exit code. */
export function explain(err: unknown, ctx: ErrorContext): { line: string; code: number } {
  const where = hostPort(ctx.host, ctx.port);
  const network = (line: string) => ({ line: `Erreur: ${line}`, code: EXIT.NETWORK });
  if (err instanceof Deno.errors.NotCapable && !/net access/.test(err.message) && err.message) {
    return { line: `Erreur: permission manquante : ${err.message}`, code: EXIT.SETUP };
  }
  if (err instanceof Deno.errors.NotCapable) {
    const to = refusedAddress(err) ?? where;
    return {
      line: `Erreur: accès réseau non autorisé à ${to}. Lancez : ${runCommand()}`,
      code: EXIT.SETUP,
    };
  }
  if (errorCode(err) === "EMSGSIZE") return network(whyNotSent(err)!);
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
 * A client's connection broke (a reset, say): prints one French line naming
 * the client, and returns false, so that a server goes on serving the others.
 * Any other error is not a lost connection: it is rethrown.
 */
export function clientLost(err: unknown, conn: Deno.Conn): false {
  const lost = connectionLost(err);
  if (lost === null) throw err;
  printError(`Erreur: ${lost} (client ${formatAddr(conn.remoteAddr)})`);
  return false;
}

/**
 * A datagram could not leave (too big for one datagram, say): prints one
 * French line naming the address it was for. The server goes on.
 */
export function notSent(err: unknown, to: Deno.Addr): void {
  const why = whyNotSent(err) ?? (err instanceof Error ? err.message : String(err));
  printError(`[${formatAddr(to)}] Erreur: réponse non envoyée (${why})`);
}
