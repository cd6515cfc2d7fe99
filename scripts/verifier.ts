#!/usr/bin/env -S deno run --allow-all --unstable-net
/**
 * verifier.ts -- checks a student's program for the workshop's exercises 1
 * (TCP) and 2 (UDP), from the outside, as its client or its server would.
 *
 * Run:  deno task verifier ex1-serveur -- python3 ~/atelier/serveur.py
 *       deno task verifier ex2-client --port 6000 --json -- python3 client_udp.py
 *
 * Permissions: --allow-all. It runs any command it is given (--allow-run
 * alone already lets it do anything), and Deno grants reading /proc, where
 * Linux tells what a program has read and which ports it holds, only with
 * --allow-all.
 *
 * The student's program is a black box started as given, once per check, in a
 * process group of its own; it is ended with all its children after each
 * check. Each check prints one French line, ✓ or ✗ with what was seen, what
 * was expected and why. Exit code: 0 when every required check passes, 1
 * otherwise, 2 for a bad command line (or a command that cannot start), 3
 * when the port is already taken, 130 when interrupted.
 *
 * @module
 */
import { type Exercise, newSetup, type Result, runChecks } from "./verifier/checks.ts";
import { parseCommandLine, USAGE } from "./verifier/cli.ts";
import { EX1_CLIENT } from "./verifier/ex1_client.ts";
import { EX1_SERVER } from "./verifier/ex1_server.ts";
import { EX2_CLIENT } from "./verifier/ex2_client.ts";
import { EX2_SERVER } from "./verifier/ex2_server.ts";
import {
  allRequiredPassed,
  header,
  resultLine,
  sectionTitle,
  summary,
  toJson,
} from "./verifier/report.ts";
import { CommandError, Student } from "./verifier/student.ts";

/** The exercises, by their name on the command line. */
export const EXERCISES: Exercise[] = [EX1_SERVER, EX1_CLIENT, EX2_SERVER, EX2_CLIENT];

/**
 * Why the verifier cannot use `port`, or null if it is free. For a server
 * exercise, a server already there (often the student's own, left running in
 * another terminal) would answer in place of the one under test.
 */
async function portTaken(exercise: Exercise, port: number): Promise<string | null> {
  const advice = "arrêtez-le, ou choisissez un autre port avec --port";
  if (exercise.side === "serveur" && exercise.transport === "tcp") {
    try {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port,
        signal: AbortSignal.timeout(2000),
      });
      conn.close();
      return `un programme écoute déjà sur le port ${port} (votre serveur, lancé dans un autre ` +
        `terminal ?) : ${advice} ; le vérificateur lance lui-même votre programme`;
    } catch {
      return null; // refused: nothing listens
    }
  }
  try {
    const hostname = exercise.side === "serveur" ? "0.0.0.0" : "127.0.0.1";
    if (exercise.transport === "tcp") Deno.listen({ hostname, port }).close();
    else Deno.listenDatagram({ transport: "udp", hostname, port }).close();
    return null;
  } catch (err) {
    if (err instanceof Deno.errors.PermissionDenied) {
      return `le port ${port} est réservé à l'administrateur (ports inférieurs à 1024) : ` +
        `choisissez-en un autre avec --port, et le même dans votre programme`;
    }
    if (!(err instanceof Deno.errors.AddrInUse)) throw err;
    const what = exercise.transport === "tcp" ? "TCP" : "UDP";
    return `le port ${what} ${port} est déjà pris par un autre programme : ${advice}`;
  }
}

/** Runs the verifier; returns its exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, EXERCISES.map((e) => e.name));
  if ("help" in parsed) {
    console.log(USAGE);
    return 0;
  }
  if ("error" in parsed) {
    console.error(`Erreur: ${parsed.error}`);
    return 2;
  }
  const { exercise: name, port, json, command } = parsed.options;
  const exercise = EXERCISES.find((e) => e.name === name)!;

  const taken = await portTaken(exercise, port);
  if (taken) {
    console.error(`Erreur: ${taken}`);
    return 3;
  }

  // The header waits for the first result: a command that cannot start gets only its error line.
  let section: Result["level"] | null = null;
  let results: Result[];
  try {
    // `deno task` runs in the project's folder; the student typed the command in INIT_CWD.
    const cwd = Deno.env.get("INIT_CWD") || Deno.cwd();
    results = await runChecks(exercise.checks(port), newSetup(port, command, cwd), (result) => {
      if (json) return;
      if (section === null) {
        for (const line of header(exercise, port, command)) console.log(line);
      }
      if (result.level !== section) {
        section = result.level;
        console.log(`\n${sectionTitle(section)}`);
      }
      console.log(resultLine(result));
    });
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    console.error(`Erreur: ${err.message}`);
    return 2;
  }
  if (json) console.log(toJson(exercise, port, command, results));
  else console.log(`\n${summary(results)}`);
  return allRequiredPassed(results) ? 0 : 1;
}

if (import.meta.main) {
  // Interrupted: end the student's program (and its children) before leaving.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      Student.killAll();
      Deno.exit(130);
    });
  }
  Deno.exit(await main(Deno.args));
}
