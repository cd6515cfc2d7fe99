/**
 * helpers.ts -- starting the programs and real tools (nc, socat, python3) as
 * processes, and waiting for what they print. No test sleeps: each waits for a
 * line of output, with a generous guard so that a broken program fails the
 * test instead of hanging it.
 *
 * @module
 */

/** The exercises' answer, before the message (as in exercises/ex1_tcp_server.ts). */
export const REPLY = "Bonjour client, j'ai bien reçu ton message : ";

/** The project folder: every program is run from here, as the README says. */
export const ROOT = new URL("..", import.meta.url).pathname;
/** In CI every tool must be there: a missing one fails its tests instead of skipping them. */
export const IN_CI = Deno.env.get("CI") === "true";
/** How long a test waits for an expected line before it fails (a guard, not a timing). */
export const GUARD_MS = 20_000;
/**
 * `--timeout` for a UDP client that expects its replies, in seconds: as
 * generous as a guard, so that a loaded machine never turns a late reply into
 * "Pas de réponse" (the tests of the timeout itself give their own).
 */
export const UDP_TIMEOUT = "10";
/** How long a process may take to stop on SIGTERM when a test disposes of it, before SIGKILL. */
const STOP_MS = 5_000;

const toolCache = new Map<string, boolean>();

/** Whether `tool` is on the PATH. */
export function hasTool(tool: string): boolean {
  if (!toolCache.has(tool)) {
    const { success } = new Deno.Command("sh", { args: ["-c", `command -v ${tool}`] })
      .outputSync();
    toolCache.set(tool, success);
  }
  return toolCache.get(tool)!;
}

/**
 * Whether a process with this pid exists (`kill -0`). Deno cannot tell by
 * itself: it wants --allow-all to look into /proc, and without it every
 * process would look gone.
 */
export function isRunning(pid: number): boolean {
  return new Deno.Command("sh", {
    args: ["-c", 'kill -0 "$1" 2>/dev/null', "sh", String(pid)],
  }).outputSync().success;
}

/**
 * Registers a test that needs external tools. Where one is missing it shows as
 * ignored, with the reason in its name; in CI it runs anyway, and fails.
 */
export function testWith(tools: string[], name: string, fn: () => Promise<void>): void {
  const missing = tools.filter((tool) => !hasTool(tool));
  const ignore = missing.length > 0 && !IN_CI;
  Deno.test({
    name: ignore ? `${name} (ignored: ${missing.join(", ")} not installed)` : name,
    ignore,
    fn,
  });
}

/**
 * Waits for `promise`, but not forever: after {@link GUARD_MS} it fails with
 * `what` was awaited and the transcripts of `processes`. A lost packet or a
 * silent program fails the test this way, and never hangs it.
 */
export function guard<T>(
  promise: Promise<T>,
  what: string,
  ...processes: Running[]
): Promise<T> {
  return guardFor(GUARD_MS, promise, what, ...processes);
}

/** {@link guard}, with a guard of `ms` instead: for a program whose run is long by design. */
export async function guardFor<T>(
  ms: number,
  promise: Promise<T>,
  what: string,
  ...processes: Running[]
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const transcripts = processes.map((process) => `\n${process.transcript()}`).join("");
      reject(new Error(`no ${what} after ${ms} ms${transcripts}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** A running process whose output is collected as it comes. */
export class Running {
  readonly child: Deno.ChildProcess;
  /** The command line, to name the process in a transcript. */
  readonly commandLine: string;
  stdout = "";
  stderr = "";
  #readers: Promise<void>[];
  #waiters = new Set<() => void>();
  #status: Promise<Deno.CommandStatus>;
  #stdinWriter: WritableStreamDefaultWriter<Uint8Array> | null = null;
  #exited = false;

  constructor(command: string, args: string[], options: { stdin?: "piped" | "null" } = {}) {
    this.commandLine = [command, ...args].join(" ");
    this.child = new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: options.stdin ?? "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1", PYTHONIOENCODING: "utf-8" },
    }).spawn();
    if (options.stdin === "piped") this.#stdinWriter = this.child.stdin.getWriter();
    this.#readers = [
      this.#collect(this.child.stdout, (text) => this.stdout += text),
      this.#collect(this.child.stderr, (text) => this.stderr += text),
    ];
    this.#status = this.child.status.then((status) => {
      this.#exited = true;
      this.#wake();
      return status;
    });
  }

  async #collect(stream: ReadableStream<Uint8Array>, add: (text: string) => void) {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      add(text);
      this.#wake();
    }
  }

  #wake() {
    for (const waiter of this.#waiters) waiter();
  }

  /**
   * Waits until stdout (or stderr) matches `pattern`, and returns the match.
   * Fails with everything printed so far if the process exits first or the
   * guard runs out.
   */
  waitFor(pattern: RegExp | string, stream: "stdout" | "stderr" = "stdout") {
    const regex = typeof pattern === "string"
      ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      : pattern;
    return this.waitUntil(() => this[stream].match(regex), String(regex));
  }

  /**
   * Waits until `text` has been printed `count` times on stdout. The guard
   * counts from the last one that came: a crowd served slowly on a busy machine
   * passes, a server that stopped printing fails.
   */
  async waitForCount(text: string, count: number): Promise<void> {
    const seen = () => this.stdout.split(text).length - 1;
    while (seen() < count) {
      const before = seen();
      await this.waitUntil(
        () => seen() > before ? [text] as RegExpMatchArray : null,
        `${count} × ${JSON.stringify(text)} (${before} so far)`,
      );
    }
  }

  /**
   * Waits until `matcher` returns a match; it is called each time the process
   * prints or exits. Fails with the transcript if the process exits first or
   * the guard runs out; `what` names what was awaited.
   */
  waitUntil<T>(matcher: () => T | null | undefined, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const match = matcher();
        if (match !== null && match !== undefined) return done(() => resolve(match));
        if (this.#exited) {
          return done(() => reject(new Error(`exited before ${what}\n${this.transcript()}`)));
        }
      };
      const guard = setTimeout(
        () =>
          done(() => reject(new Error(`no ${what} after ${GUARD_MS} ms\n${this.transcript()}`))),
        GUARD_MS,
      );
      const done = (settle: () => void) => {
        clearTimeout(guard);
        this.#waiters.delete(check);
        settle();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Everything printed so far, for failure messages. */
  transcript(): string {
    return `--- ${this.commandLine}: stdout ---\n${this.stdout}--- stderr ---\n${this.stderr}`;
  }

  /** Writes to the process's stdin (started with `stdin: "piped"`). */
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    await guard(this.#stdinWriter!.write(bytes), "room in the stdin pipe", this);
  }

  /** Closes the process's stdin: end of input, like Ctrl+D. */
  async closeStdin(): Promise<void> {
    const writer = this.#stdinWriter;
    this.#stdinWriter = null;
    if (writer) await guard(writer.close(), "end of stdin", this);
  }

  /** Sends a signal, if the process is still running. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      if (!this.#exited) this.child.kill(signal);
    } catch (err) {
      // It exited between the check and the signal: nothing left to stop.
      if (!(err instanceof TypeError)) throw err;
    }
  }

  /**
   * Waits for the process to exit and for all its output. Fails with the
   * transcript if it does not exit within the guard.
   */
  async finished(ms = GUARD_MS): Promise<
    { code: number; signal: Deno.Signal | null; stdout: string; stderr: string }
  > {
    await this.closeStdin().catch(() => {}); // a process that has exited reads no more
    const status = await guardFor(ms, this.#status, "exit", this);
    await guard(Promise.all(this.#readers), "end of output", this);
    return { code: status.code, signal: status.signal, stdout: this.stdout, stderr: this.stderr };
  }

  /**
   * `await using`: stops the process if a test left it running, as Ctrl+C
   * would (SIGTERM: our servers print "Fin du programme" and close their
   * sockets), with SIGKILL only if it does not stop; then reaps it.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#exited) {
      this.kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => timer = setTimeout(resolve, STOP_MS, "late"));
      const stopped = await Promise.race([this.#status, late]);
      clearTimeout(timer);
      if (stopped === "late") this.kill("SIGKILL");
    }
    await this.finished();
  }
}

/** Starts tests/workshop_peer.py, a peer that behaves like the workshop's Python programs. */
export function workshopPeer(args: string[], options: { stdin?: "piped" | "null" } = {}): Running {
  return new Running("python3", ["tests/workshop_peer.py", ...args], options);
}

/** Starts one of our programs exactly as the README says: `deno run --allow-net FILE`. */
export function program(
  file: string,
  args: string[] = [],
  options: { stdin?: "piped" | "null"; denoFlags?: string[] } = {},
): Running {
  const denoFlags = options.denoFlags ?? ["--allow-net"];
  return new Running("deno", ["run", ...denoFlags, file, ...args], options);
}

/** Runs one of our programs to the end. */
export function runProgram(
  file: string,
  args: string[] = [],
  options: { stdin?: "piped" | "null"; denoFlags?: string[] } = {},
) {
  return program(file, args, options).finished();
}

/** Starts a server on port 0 and returns it with the port it printed. */
export async function startServer(
  file: string,
  args: string[] = [],
): Promise<{ server: Running; port: number }> {
  const server = program(file, ["--port", "0", ...args]);
  const [, port] = await server.waitFor(/ port (\d+)\.\.\./);
  return { server, port: Number(port) };
}

/**
 * A port of 127.0.0.1 where nothing can listen, held by a helper process until
 * it is disposed of. For TCP, a socket bound but not listening: a connection
 * is refused (reset). For UDP, a socket bound and connected elsewhere: a
 * datagram finds no receiver, as with no socket at all. Unlike a port that
 * was merely free a moment ago, no other program can take it meanwhile.
 */
export async function closedPort(
  transport: "tcp" | "udp",
): Promise<{ holder: Running; port: number }> {
  const holder = new Running("python3", [
    "-c",
    `import socket, sys
tcp = sys.argv[1] == "tcp"
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
if not tcp:
    s.connect(("127.0.0.1", 9))  # only datagrams from 127.0.0.1:9 could reach it
print("port", s.getsockname()[1], flush=True)
sys.stdin.read()  # held until the test closes our stdin`,
    transport,
  ], { stdin: "piped" });
  const [, port] = await holder.waitFor(/^port (\d+)$/m);
  return { holder, port: Number(port) };
}

/**
 * Starts a tool (nc -l, socat TCP-LISTEN) on port 0 and returns it with the
 * port it reports once it listens: no port is guessed, so none can be taken
 * by another program in between.
 */
export async function listeningTool(
  command: string,
  args: string[],
  reported: RegExp,
  options: { stdin?: "piped" | "null" } = {},
): Promise<{ tool: Running; port: number }> {
  const tool = new Running(command, args, options);
  const [, port] = await tool.waitFor(reported, "stderr");
  return { tool, port: Number(port) };
}

/** Connects to a local server, with a guard: a full backlog fails the test instead of hanging it. */
export function connect(port: number, ...processes: Running[]): Promise<Deno.TcpConn> {
  return guard(
    Deno.connect({ hostname: "127.0.0.1", port }),
    `connection to ${port}`,
    ...processes,
  );
}

/** Writes every byte to a connection (a short write is not an error); each write is guarded. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let written = 0; written < data.length;) {
    written += await guard(conn.write(data.subarray(written)), "room to write");
  }
}

/**
 * The lines a peer sends on a connection, however many reads they take: a
 * line cut across reads is joined, several lines in one read are split, a
 * character cut in two is decoded whole. Each read is guarded, and fails with
 * the transcripts of `processes`. (Tests read with this rather than the
 * programs' own LineReader: a test must not depend on the code it checks.)
 */
export class Lines {
  #conn: Deno.Conn;
  #processes: Running[];
  #decoder = new TextDecoder();
  #buffer = new Uint8Array(65536);
  #partial = "";
  #lines: string[] = [];
  #ended = false;

  constructor(conn: Deno.Conn, ...processes: Running[]) {
    this.#conn = conn;
    this.#processes = processes;
  }

  /** The next line, without its "\n", or null at the end of the stream. */
  async next(): Promise<string | null> {
    while (this.#lines.length === 0 && !this.#ended) {
      const n = await guard(this.#conn.read(this.#buffer), "line", ...this.#processes);
      if (n === null) {
        this.#ended = true;
        this.#partial += this.#decoder.decode();
        if (this.#partial !== "") this.#lines.push(this.#partial); // a last line with no "\n"
      } else {
        const text = this.#partial + this.#decoder.decode(this.#buffer.subarray(0, n), {
          stream: true,
        });
        const lines = text.split("\n");
        this.#partial = lines.pop()!;
        this.#lines.push(...lines);
      }
    }
    return this.#lines.shift() ?? null;
  }

  /** Every line up to the end of the stream. */
  async rest(): Promise<string[]> {
    const lines = [];
    for (let line; (line = await this.next()) !== null;) lines.push(line);
    return lines;
  }
}

/** Reads a connection to its end, each read guarded, and returns what came as text. */
export async function readToEnd(conn: Deno.Conn, ...processes: Running[]): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(65536);
  let text = "";
  for (let n; (n = await guard(conn.read(buffer), "end of stream", ...processes)) !== null;) {
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  return text + decoder.decode();
}

/** A UDP socket of the test's own, on 127.0.0.1 (or `hostname`), whose receives are guarded. */
export function udpSocket(hostname = "127.0.0.1") {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  const to = (port: number): Deno.NetAddr => ({ transport: "udp", hostname, port });
  return {
    socket,
    port: (socket.addr as Deno.NetAddr).port,
    to,
    /** Sends one datagram to `port`. */
    send: (port: number, data: string | Uint8Array) =>
      socket.send(typeof data === "string" ? new TextEncoder().encode(data) : data, to(port)),
    /** The next datagram, as text; fails with the transcripts of `processes` if none comes. */
    receive: async (...processes: Running[]) => {
      const [data] = await guard(socket.receive(), "datagram", ...processes);
      return new TextDecoder().decode(data);
    },
    /**
     * The next datagram's bytes, or null after `ms`: for a test that counts
     * datagrams until none comes (a bound on waiting, not a timing).
     */
    receiveWithin: async (ms: number): Promise<Uint8Array | null> => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<null>((resolve) => timer = setTimeout(resolve, ms, null));
      const got = await Promise.race([socket.receive().then(([data]) => data), late]);
      clearTimeout(timer);
      return got;
    },
  };
}

/** How long to wait for an answer before sending a datagram again (a retry, not a timing). */
const RESEND_MS = 500;

/**
 * Calls `send` again and again, {@link RESEND_MS} apart, until `answered`
 * settles, and returns its value: for a datagram that UDP may drop when a
 * buffer is full. `answered` must be guarded (a `waitFor`, a `guard`): its
 * guard is what bounds the resending.
 */
export async function resendUntil<T>(
  answered: Promise<T>,
  send: () => Promise<unknown>,
): Promise<T> {
  const answer = answered.then((value) => ({ value }));
  answer.catch(() => {}); // a failure is thrown by the race below, even while sending
  while (true) {
    await send();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pause = new Promise<null>((resolve) => timer = setTimeout(resolve, RESEND_MS, null));
    const got = await Promise.race([answer, pause]).finally(() => clearTimeout(timer));
    if (got !== null) return got.value;
  }
}

/** A seeded random generator (Marsaglia's xorshift32), so a failing case can be replayed. */
export function seededRandom(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** The lines of a text, without the empty string after a final "\n". */
export function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Our tmux sockets' names: the test process's pid, then a random part (before: a count). */
const TMUX_SOCKET = /^socket-kit-(\d+)-[0-9a-f]+$/;

/** The folder where tmux keeps its server sockets (`tmux -L NAME`). */
function tmuxFolder(): string {
  return `${Deno.env.get("TMUX_TMPDIR") ?? "/tmp"}/tmux-${Deno.uid()}`;
}

/**
 * Removes the tmux sockets of test runs that were killed (their pid is gone),
 * ending their server first if it still runs.
 */
async function removeStaleTmuxSockets(): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(tmuxFolder())];
  } catch {
    return; // no tmux folder yet
  }
  for (const { name } of entries) {
    const pid = Number(name.match(TMUX_SOCKET)?.[1]);
    if (!pid || pid === Deno.pid || isRunning(pid)) continue; // not ours, or its run goes on
    await new Deno.Command("tmux", {
      args: ["-L", name, "kill-server"],
      stderr: "null",
      signal: AbortSignal.timeout(GUARD_MS),
    }).output().catch(() => {});
    await Deno.remove(`${tmuxFolder()}/${name}`).catch(() => {});
  }
}

/**
 * A program running on a real terminal: a tmux session of its own (its own
 * server socket), driven with send-keys and read with capture-pane.
 */
export class Terminal {
  // The pid tells whose socket it is; the random part keeps each test module's apart.
  readonly #socket = `socket-kit-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;

  private constructor() {}

  /** Starts `command` (run by tmux's shell, from the project folder) on a 100x30 terminal. */
  static async start(command: string): Promise<Terminal> {
    await removeStaleTmuxSockets();
    const terminal = new Terminal();
    // remain-on-exit keeps the screen and the exit status once the program ends.
    await terminal.#tmux(
      "-f",
      "/dev/null",
      "start-server",
      ";",
      "set-option",
      "-g",
      "remain-on-exit",
      "on",
      ";",
      "new-session",
      "-d",
      "-s",
      "kit",
      "-x",
      "100",
      "-y",
      "30",
      "-c",
      ROOT,
      // The shell prints the exit status when the program ends: tmux itself may
      // notice a dead pane late, the shell's line cannot be missed.
      `NO_COLOR=1 ${command}; echo "[exit status $?]"`,
    ).catch(async (err) => {
      await terminal[Symbol.asyncDispose]();
      throw err;
    });
    return terminal;
  }

  async #tmux(...args: string[]): Promise<string> {
    const { success, stdout, stderr } = await new Deno.Command("tmux", {
      args: ["-L", this.#socket, ...args],
      signal: AbortSignal.timeout(GUARD_MS), // a guard: tmux answers at once
    }).output();
    if (!success) throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
    return new TextDecoder().decode(stdout);
  }

  /** What the terminal shows, scrollback included, without trailing blank lines. */
  async screen(): Promise<string> {
    const text = await this.#tmux("capture-pane", "-p", "-S", "-", "-t", "kit");
    return text.replace(/\s+$/, "");
  }

  /** Types keys: text, or tmux key names such as "Enter" and "C-d". */
  async keys(...keys: string[]): Promise<void> {
    await this.#tmux("send-keys", "-t", "kit", ...keys);
  }

  /** Polls the screen until it matches `pattern`; fails with the screen after the guard. */
  async waitFor(pattern: RegExp): Promise<string> {
    const deadline = Date.now() + GUARD_MS;
    while (true) {
      const screen = await this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`no ${pattern} on the terminal:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 25)); // poll interval, not a wait for readiness
    }
  }

  /** Waits for the program to end and returns its exit status. */
  async exitStatus(): Promise<number> {
    const screen = await this.waitFor(/^\[exit status (\d+)\]$/m);
    return Number(screen.match(/^\[exit status (\d+)\]$/m)![1]);
  }

  /** Ends the tmux server, and the program with it, and removes its socket (tmux leaves it). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#tmux("kill-server").catch(() => {});
    await Deno.remove(`${tmuxFolder()}/${this.#socket}`).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}

/** A mebibyte. */
export const MiB = 1024 * 1024;

/** Resident memory of a process, in bytes (Linux). Deno asks for --allow-all to read /proc: cat can. */
export function rss(pid: number): number {
  const { stdout } = new Deno.Command("cat", { args: [`/proc/${pid}/status`] }).outputSync();
  const status = new TextDecoder().decode(stdout);
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
}
