/**
 * student.ts -- the student's program: started exactly as given, in a process
 * group of its own, its output collected as it comes, and ended with all its
 * children (SIGTERM, then SIGKILL) whatever it does.
 *
 * @module
 */
import { groupMembers } from "./procfs.ts";

/** How long a program has to leave after SIGTERM before it gets SIGKILL. */
const TERM_GRACE_MS = 1500;
/** Output kept per stream; a program that prints without end cannot fill our memory. */
const OUTPUT_CAP = 4 * 1024 * 1024;

/** Every program started and not yet ended, for Ctrl+C on the verifier. */
const running = new Set<Student>();

/** The command could not be started at all (not found, not executable). */
export class CommandError extends Error {}

/** A waiter that resolves when `ready()` holds, when `wake` says so, or at the deadline. */
export function waitFor(
  ready: () => boolean,
  ms: number,
  subscribe: (wake: () => void) => () => void,
): Promise<boolean> {
  if (ready()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
      resolve(ready());
    };
    const timer = setTimeout(finish, ms);
    const unsubscribe = subscribe(() => {
      if (ready()) finish();
    });
  });
}

/** The student's program, running. */
export class Student {
  stdout = "";
  stderr = "";
  /** The exit status, once the program has ended. */
  status: Deno.CommandStatus | null = null;
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | null;
  readonly #readers: Promise<void>[];
  readonly #ended: Promise<Deno.CommandStatus>;
  readonly #wakers = new Set<() => void>();
  #outputDone = false;

  private constructor(child: Deno.ChildProcess, withStdin: boolean) {
    this.#child = child;
    this.#writer = withStdin ? child.stdin.getWriter() : null;
    this.#readers = [
      this.#collect(child.stdout, (text) => this.stdout += text, () => this.stdout.length),
      this.#collect(child.stderr, (text) => this.stderr += text, () => this.stderr.length),
    ];
    Promise.all(this.#readers).then(() => {
      this.#outputDone = true;
      this.#wake();
    });
    this.#ended = child.status.then((status) => {
      this.status = status;
      this.#wake();
      return status;
    });
  }

  /**
   * Starts `command` in folder `cwd`. `detached` makes it the leader of a new session, so of a
   * new process group: its pid is the group's id, and all its children share it.
   * Python gets unbuffered output, so that its lines arrive as they are printed.
   */
  static start(command: string[], withStdin: boolean, cwd?: string): Student {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command[0], {
        args: command.slice(1),
        cwd,
        stdin: withStdin ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
        env: { PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8", NO_COLOR: "1" },
      }).spawn();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new CommandError(
          `commande introuvable : « ${command[0]} » (vérifiez son nom, ou donnez son chemin)`,
        );
      }
      if (err instanceof Deno.errors.PermissionDenied) {
        throw new CommandError(
          `impossible de lancer « ${command[0]} » : ce fichier n'est pas exécutable ` +
            `(lancez-le avec son interpréteur, par exemple : python3 ${command[0]})`,
        );
      }
      throw err;
    }
    const student = new Student(child, withStdin);
    running.add(student);
    return student;
  }

  /** The process id, which is also its process group's id. */
  get pid(): number {
    return this.#child.pid;
  }

  async #collect(
    stream: ReadableStream<Uint8Array>,
    add: (text: string) => void,
    size: () => number,
  ): Promise<void> {
    try {
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        if (size() < OUTPUT_CAP) add(text);
        this.#wake();
      }
    } catch {
      // The stream broke: what came before is kept.
    }
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
  }

  #subscribe = (wake: () => void) => {
    this.#wakers.add(wake);
    return () => this.#wakers.delete(wake);
  };

  /**
   * Waits until `ready()` holds, re-checked at each piece of output; false after
   * `ms`, or once the program has ended and all its output is in.
   */
  waitUntil(ready: () => boolean, ms: number): Promise<boolean> {
    return waitFor(() => ready() || (this.status !== null && this.#outputDone), ms, this.#subscribe)
      .then(() => ready());
  }

  /** The exit status if the program ends within `ms`, else null. */
  async exitedWithin(ms: number): Promise<Deno.CommandStatus | null> {
    await waitFor(() => this.status !== null, ms, this.#subscribe);
    if (this.status !== null) {
      // Its last lines may still be in the pipe.
      await waitFor(() => this.#outputDone, 1000, this.#subscribe);
    }
    return this.status;
  }

  /** Types `text` on the program's stdin; a program that is gone simply does not read it. */
  async type(text: string): Promise<void> {
    await this.#writer?.write(new TextEncoder().encode(text)).catch(() => {});
  }

  /** Closes the program's stdin (end of input, like Ctrl+D). */
  async closeStdin(): Promise<void> {
    await this.#writer?.close().catch(() => {});
  }

  /** The last line the program wrote on stderr (for Python, the exception), or "". */
  errorLine(): string {
    const lines = this.stderr.split("\n").map((line) => line.trim()).filter((line) => line);
    return lines.at(-1) ?? "";
  }

  /**
   * Ends the program and all its children: SIGTERM to the group, then SIGKILL
   * to whatever is left after a grace time, even if the leader already left.
   */
  async stop(): Promise<void> {
    this.#signalGroup("SIGTERM");
    await this.exitedWithin(TERM_GRACE_MS);
    const members = await groupMembers(this.pid);
    if (members === null ? this.status === null : members.length > 0) this.#signalGroup("SIGKILL");
    await this.#ended;
    // Children that outlived the leader die too; wait until none is left.
    for (let tries = 0; tries < 200; tries++) {
      const left = await groupMembers(this.pid);
      if (left === null || left.length === 0) break;
      this.#signalGroup("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await this.#writer?.close().catch(() => {});
    await waitFor(() => this.#outputDone, 2000, this.#subscribe);
    running.delete(this);
  }

  /**
   * Sends a signal to the whole group (a negative pid); a group already gone
   * is no error. Where groups cannot be signalled (Windows), the program alone.
   */
  #signalGroup(signal: Deno.Signal): void {
    try {
      Deno.kill(-this.pid, signal);
    } catch {
      if (this.status !== null) return; // no process left in the group
      try {
        this.#child.kill(signal);
      } catch {
        // It ended meanwhile.
      }
    }
  }

  /** Kills every program still running, at once: the verifier is being interrupted. */
  static killAll(): void {
    for (const student of running) student.#signalGroup("SIGKILL");
  }
}
