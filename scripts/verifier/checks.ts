/**
 * checks.ts -- what a check is, the session that owns what a check starts
 * (the student's program, the verifier's sockets), and the loop that runs the
 * checks of an exercise one by one, each on a freshly started program.
 *
 * @module
 */
import { CommandError, Student } from "./student.ts";
import { REPLY } from "./text.ts";

/** How long the student's program has to start: to listen, or to connect. */
export const START_MS = 15_000;
/** How long a check waits for an answer, a printed line, a closed connection. */
export const REPLY_MS = 5_000;
/** How long a UDP client may wait for a lost reply before it must give up. */
export const LOST_MS = 10_000;
/** The limit of a whole check, in case one of its own waits fails to end it. */
const CHECK_MS = 60_000;

/** A check is "requis" (the exercise's statement) or "avancé" (what a real network does). */
export type Level = "requis" | "avancé";

/** null when the check passed; otherwise one French sentence: seen, expected, and why. */
export type Verdict = string | null;

/** One check of an exercise. */
export interface Check {
  /** A short name for --json (ASCII, no spaces). */
  id: string;
  level: Level;
  /** The line shown to the student, in French. */
  title: string;
  /** The id of a check that must pass first (without it, this one cannot run). */
  needs?: string;
  run(session: Session): Promise<Verdict>;
}

/** What one run of the verifier knows, shared by its checks. */
export interface Setup {
  port: number;
  command: string[];
  /** The folder where the command runs: the one the user typed it in. */
  cwd: string;
  /**
   * The start of the server's replies. The sentence check compares it with
   * the statement's; if the server says something else before the message,
   * the later checks expect what it says, so that one mistake costs one check.
   */
  prefix: string;
}

/** The outcome of a check. */
export interface Result {
  id: string;
  level: Level;
  title: string;
  status: "réussie" | "échouée" | "non vérifiée";
  /** Why it failed or was not run. */
  why?: string;
}

/** What a check starts and opens; `end()` closes and stops it all. */
export class Session {
  readonly setup: Setup;
  readonly #closables: { close(): unknown }[] = [];
  readonly #students: Student[] = [];

  constructor(setup: Setup) {
    this.setup = setup;
  }

  /** The port of the exercise. */
  get port(): number {
    return this.setup.port;
  }

  /** Starts the student's program (throws CommandError if it cannot be started). */
  start(withStdin = false): Student {
    const student = Student.start(this.setup.command, withStdin, this.setup.cwd);
    this.#students.push(student);
    return student;
  }

  /** Registers a socket of the verifier, to close at the end of the check. */
  own<T extends { close(): unknown }>(thing: T): T {
    this.#closables.push(thing);
    return thing;
  }

  /**
   * Closes our sockets first, then ends the programs: a server whose client
   * left first does not keep its port in TIME_WAIT. The session can start
   * again afterwards.
   */
  async end(): Promise<void> {
    for (const thing of this.#closables.splice(0)) await thing.close();
    await Promise.all(this.#students.splice(0).map((student) => student.stop()));
  }
}

/** A fresh setup for one run. */
export function newSetup(port: number, command: string[], cwd: string): Setup {
  return { port, command, cwd, prefix: REPLY };
}

/**
 * Runs the checks in order, each in its own session, and hands each result to
 * `report` as soon as it is known. A CommandError (the program cannot be
 * started at all) stops the run.
 */
export async function runChecks(
  checks: Check[],
  setup: Setup,
  report: (result: Result) => void,
): Promise<Result[]> {
  const results: Result[] = [];
  for (const check of checks) {
    const { id, level, title } = check;
    const needed = results.find((result) => result.id === check.needs);
    let result: Result;
    if (needed && needed.status !== "réussie") {
      result = {
        id,
        level,
        title,
        status: "non vérifiée",
        why: `non vérifiée, car « ${needed.title} » a échoué`,
      };
    } else {
      const why = await runOne(check, setup);
      result = why === null
        ? { id, level, title, status: "réussie" }
        : { id, level, title, status: "échouée", why };
    }
    results.push(result);
    report(result);
  }
  return results;
}

/** Runs one check within its time limit, then ends everything it started. */
async function runOne(check: Check, setup: Setup): Promise<Verdict> {
  const session = new Session(setup);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<Verdict>((resolve) => {
    timer = setTimeout(
      resolve,
      CHECK_MS,
      `la vérification n'a pas fini en ${CHECK_MS / 1000} s : votre programme ne répond plus`,
    );
  });
  const work = check.run(session);
  work.catch(() => {}); // if the limit wins, the check fails later, once its program is ended
  try {
    return await Promise.race([work, limit]);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    return `erreur du vérificateur lui-même : ${err instanceof Error ? err.message : err}`;
  } finally {
    clearTimeout(timer);
    await session.end();
  }
}

/** One exercise: its name on the command line, and its checks. */
export interface Exercise {
  /** As typed: "ex1-serveur". */
  name: string;
  /** For the header: "exercice 1, serveur TCP". */
  label: string;
  /** Whether the student wrote the server or the client, and over which transport. */
  side: "serveur" | "client";
  transport: "tcp" | "udp";
  /** What the verifier does, for the header. */
  plays: string;
  checks(port: number): Check[];
}
