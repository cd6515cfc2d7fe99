/**
 * cli.ts -- the verifier's command line: the exercise, --port, --json, and
 * after "--" the command that starts the student's program.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The workshop's port for both exercises. */
export const DEFAULT_PORT = 5000;

/** What --help prints. */
export const USAGE =
  `Usage : deno task verifier <exercice> [--port N] [--json] -- <commande de votre programme>

Lance votre programme et vérifie, comme le ferait son client ou son serveur, qu'il fait ce que
demande l'exercice 1 (TCP) ou 2 (UDP) de l'atelier.

Exercices : ex1-serveur, ex1-client, ex2-serveur, ex2-client

Exemples :
  deno task verifier ex1-serveur -- python3 ~/atelier/serveur.py
  deno task verifier ex2-client -- python3 client_udp.py

Options :
  --port N   le port qu'utilise votre programme (défaut : ${DEFAULT_PORT}, celui de l'atelier)
  --json     un seul objet JSON en sortie (pour vérifier les programmes de toute une classe)

Code de sortie : 0 si toutes les vérifications requises réussissent, 1 sinon ; 2 si la ligne de
commande est incorrecte ou si la commande ne se lance pas ; 3 si le port est déjà pris.`;

/** A command line that makes sense. */
export interface Options {
  exercise: string;
  port: number;
  json: boolean;
  command: string[];
}

/** The options, or --help, or what is wrong (one French sentence). */
export type Parsed = { options: Options } | { help: true } | { error: string };

const EXAMPLE = "deno task verifier ex1-serveur -- python3 serveur.py";

/** Reads the command line; `exercises` are the names it accepts. */
export function parseCommandLine(args: string[], exercises: string[]): Parsed {
  const dashes = args.indexOf("--");
  const own = dashes === -1 ? args : args.slice(0, dashes);
  const command = dashes === -1 ? [] : args.slice(dashes + 1);
  let values: { port?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: own,
      options: {
        port: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    return { error: optionError(err) };
  }
  if (values.help) return { help: true };

  const list = exercises.join(", ");
  if (positionals.length === 0) {
    return {
      error: `il manque l'exercice (${list}) et la commande de votre programme : ${EXAMPLE}`,
    };
  }
  const [exercise, extra] = positionals;
  if (!exercises.includes(exercise)) {
    return { error: `exercice inconnu « ${exercise} » : choisissez parmi ${list}` };
  }
  if (extra !== undefined) {
    return {
      error: `argument en trop « ${extra} » : la commande de votre programme se met après -- ` +
        `(${EXAMPLE})`,
    };
  }
  if (command.length === 0) {
    return { error: `il manque la commande qui lance votre programme, après -- : ${EXAMPLE}` };
  }
  let port = DEFAULT_PORT;
  if (values.port !== undefined) {
    port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      return {
        error: `port invalide « ${values.port} » : donnez un nombre de 1 à 65535 ` +
          `(${DEFAULT_PORT} dans l'atelier)`,
      };
    }
  }
  return { options: { exercise, port, json: values.json ?? false, command } };
}

/** parseArgs' error, in French. */
function optionError(err: unknown): string {
  const { code, message } = err as { code?: string; message?: string };
  const name = message?.match(/'(-[^' ]*)/)?.[1] ?? "?";
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return `option inconnue « ${name} » : les options sont --port N et --json (la commande de ` +
      `votre programme et ses options se mettent après --)`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return name === "--port"
      ? "il manque le numéro de port après --port"
      : `l'option ${name} ne prend pas de valeur`;
  }
  return `ligne de commande incorrecte (${message}) : ${EXAMPLE}`;
}
