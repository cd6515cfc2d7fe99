/**
 * atelier_test.ts -- the course (ATELIER.md) and the README, run against the
 * real programs, so that a change to what a program prints cannot leave the
 * course behind.
 *
 * Every fenced block of those two files but the Mermaid diagrams carries a
 * marker, an HTML comment on the line before it:
 *
 *   <!-- test: client-udp, terminal 2 -->          a screen of scenario client-udp
 *   <!-- test: deux-machines, terminal 1, machine A -->
 *   <!-- test: not run: REASON -->                 a block that cannot run here
 *   <!-- test: excerpt udp_client.ts -->           lines quoted from a lesson
 *
 * A screen block is what a student sees in one terminal at the end of the
 * scenario: `$ ` before each command typed at the shell, the program's
 * output, what the student types (echoed by the terminal), `^C` for Ctrl+C.
 * Its scenario has a script, also in an HTML comment, that says in what order
 * things happen across the terminals:
 *
 *   <!-- test-script: client-udp [in project|copy|bundles]
 *   1 $                      type terminal 1's next `$` command, then Enter
 *   A listening udp 8888     wait until something listens on that port on machine A
 *   2 > Salut !              type a line, then Enter
 *   2 ^C                     Ctrl+C (^D: Ctrl+D)
 *   1 ? Message reçu         wait until terminal 1 shows its block up to that line
 *   1 ~ Allow?               wait until that text is anywhere on terminal 1
 *   1 reading                wait until terminal 1's program is blocked reading its keyboard
 *   A sh nft -f FILE         run a command on machine A (setup the course does not show)
 *   -->
 *
 * Each scenario runs in a private network of two machines, network
 * namespaces A (192.168.1.20) and B (192.168.1.21) joined by a virtual cable,
 * so the course's commands run exactly as written: the default ports 8888 and
 * 5000, the addresses of the "Deux machines" section. Each terminal is a real
 * one (tmux) running bash in its machine, from the project folder (`in
 * project`), a copy of it (`in copy`, for commands that write into it), or a
 * folder with nothing but the bundles (`in bundles`). At the end, every
 * terminal's screen must equal its block, once the client ports the system
 * picks (five digits after an address, never 8888 or 5000) are masked.
 *
 * Nothing here sleeps to wait: each step waits for what it needs to see on a
 * screen or a socket, polling, with a guard that fails with every screen.
 */
import assert from "node:assert/strict";
import { hasTool, IN_CI, ROOT } from "./helpers.ts";
import { whyNoNetns } from "./netns.ts";

/** The files whose command blocks are checked. */
const COURSE_FILES = ["ATELIER.md", "README.md"];
/** How long a step waits for what it expects before failing (a guard, not a timing). */
const GUARD_MS = 30_000;
/** How often a screen or a socket is looked at while waiting. */
const POLL_MS = 40;
/** The machines of the private network, with the addresses the course shows. */
const MACHINES = { A: "192.168.1.20", B: "192.168.1.21" } as const;
type Machine = keyof typeof MACHINES;

// ---------------------------------------------------------------------------
// Reading the course

/** Where a block or a script starts, for error messages: `ATELIER.md:42`. */
type Place = { file: string; line: number };

type Marker =
  | { kind: "screen"; scenario: string; terminal: number; machine: Machine }
  | { kind: "not run"; reason: string }
  | { kind: "excerpt"; lesson: string };

type Block = Place & { info: string; lines: string[]; marker: Marker | null };

type Step =
  | { kind: "command"; terminal: number }
  | { kind: "type"; terminal: number; text: string }
  | { kind: "key"; terminal: number; key: "C-c" | "C-d" }
  | { kind: "wait"; terminal: number; text: string }
  | { kind: "see"; terminal: number; text: string }
  | { kind: "reading"; terminal: number }
  | { kind: "listening"; machine: Machine; transport: "tcp" | "udp"; port: number }
  | { kind: "sh"; machine: Machine; command: string };

type Script = Place & { name: string; folder: "project" | "copy" | "bundles"; steps: Step[] };

/** Reads a marker comment's text (what is between `<!-- test:` and `-->`). */
function parseMarker(text: string, place: Place): Marker {
  const notRun = text.match(/^not run: (.+)$/);
  if (notRun) return { kind: "not run", reason: notRun[1] };
  const excerpt = text.match(/^excerpt (\S+)$/);
  if (excerpt) return { kind: "excerpt", lesson: excerpt[1] };
  const screen = text.match(/^([\w-]+), terminal (\d+)(?:, machine ([AB]))?$/);
  if (screen) {
    return {
      kind: "screen",
      scenario: screen[1],
      terminal: Number(screen[2]),
      machine: (screen[3] ?? "A") as Machine,
    };
  }
  throw new Error(`${place.file}:${place.line}: unreadable marker "${text}"`);
}

/** Reads one line of a script. */
function parseStep(line: string, place: Place): Step {
  let m;
  if ((m = line.match(/^(\d+) \$$/))) return { kind: "command", terminal: Number(m[1]) };
  if ((m = line.match(/^(\d+) > (.*)$/))) {
    return { kind: "type", terminal: Number(m[1]), text: m[2] };
  }
  if ((m = line.match(/^(\d+) \^([CD])$/))) {
    return { kind: "key", terminal: Number(m[1]), key: m[2] === "C" ? "C-c" : "C-d" };
  }
  if ((m = line.match(/^(\d+) \? (.+)$/))) {
    return { kind: "wait", terminal: Number(m[1]), text: m[2] };
  }
  if ((m = line.match(/^(\d+) ~ (.+)$/))) {
    return { kind: "see", terminal: Number(m[1]), text: m[2] };
  }
  if ((m = line.match(/^(\d+) reading$/))) return { kind: "reading", terminal: Number(m[1]) };
  if ((m = line.match(/^([AB]) listening (tcp|udp) (\d+)$/))) {
    return {
      kind: "listening",
      machine: m[1] as Machine,
      transport: m[2] as "tcp" | "udp",
      port: Number(m[3]),
    };
  }
  if ((m = line.match(/^([AB]) sh (.+)$/))) {
    return { kind: "sh", machine: m[1] as Machine, command: m[2] };
  }
  throw new Error(`${place.file}:${place.line}: unreadable step "${line}"`);
}

/** The fenced blocks and the scripts of a Markdown file. */
function parseCourse(file: string): { blocks: Block[]; scripts: Script[] } {
  const text = Deno.readTextFileSync(`${ROOT}${file}`);
  const lines = text.split("\n");
  const blocks: Block[] = [];
  const scripts: Script[] = [];
  for (let i = 0; i < lines.length; i++) {
    const script = lines[i].match(/^<!-- test-script: ([\w-]+)(?: in (project|copy|bundles))?$/);
    if (script) {
      const place = { file, line: i + 1 };
      const steps: Step[] = [];
      for (i++; i < lines.length && lines[i].trim() !== "-->"; i++) {
        const step = lines[i].trim();
        if (step !== "") steps.push(parseStep(step, { file, line: i + 1 }));
      }
      const folder = (script[2] ?? "project") as Script["folder"];
      scripts.push({ ...place, name: script[1], folder, steps });
      continue;
    }
    const fence = lines[i].match(/^(`{3,})(\S*)\s*$/);
    if (!fence) continue;
    const place = { file, line: i + 1 };
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === "") before--;
    const comment = before >= 0 ? lines[before].match(/^<!-- test: (.*) -->$/) : null;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== fence[1]; i++) body.push(lines[i]);
    blocks.push({
      ...place,
      info: fence[2],
      lines: body.map((line) => line.trimEnd()),
      marker: comment ? parseMarker(comment[1], place) : null,
    });
  }
  return { blocks, scripts };
}

const course = COURSE_FILES.map((file) => ({ file, ...parseCourse(file) }));

// ---------------------------------------------------------------------------
// Comparing screens

/**
 * Masks the client ports the system picks: a five-digit port after an IPv4
 * address (ephemeral ports are 32768-60999; 8888 and 5000 have four digits).
 * Each distinct port gets its own name in order of appearance, so the course
 * still says which client did what: `127.0.0.1:PORT1`, `127.0.0.1:PORT2`.
 */
function maskPorts(lines: string[]): string[] {
  const names = new Map<string, string>();
  return lines.map((line) =>
    line.replace(/(\d{1,3}(?:\.\d{1,3}){3}):(\d{5})\b/g, (_, ip: string, port: string) => {
      if (!names.has(port)) names.set(port, `PORT${names.size + 1}`);
      return `${ip}:${names.get(port)}`;
    })
  );
}

// ---------------------------------------------------------------------------
// The private network

/** Runs a command and returns its stdout; fails with its stderr. */
async function run(command: string, args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(command, { args }).output();
  const decoder = new TextDecoder();
  if (!success) throw new Error(`${command} ${args.join(" ")}: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

/**
 * Our namespaces are named `atelier-<pid>-<n>-a` and `-b`: the pid finds those
 * of runs that were killed. (Not netns.ts's `socketkit-` prefix: its clean-up
 * of stale namespaces would take ours for its own.)
 */
const NS_PREFIX = "atelier-";
let labCount = 0;

/** Ends every process of a namespace, then deletes it. */
async function deleteNamespace(ns: string): Promise<void> {
  const pids = await run("ip", ["netns", "pids", ns]).catch(() => "");
  for (const pid of pids.split("\n").filter((p) => p !== "")) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch { /* gone already */ }
  }
  await run("ip", ["netns", "delete", ns]).catch(() => {});
}

/** Whether a process runs. (Deno.stat on /proc needs --allow-all: ask a shell.) */
async function running(pid: string): Promise<boolean> {
  const { success } = await new Deno.Command("sh", { args: ["-c", `test -d /proc/${pid}`] })
    .output();
  return success;
}

/** Deletes the course's namespaces left by runs that were killed. */
async function removeStaleLabs(): Promise<void> {
  const list = await run("ip", ["netns", "list"]);
  for (const name of list.split("\n").map((line) => line.split(" ")[0])) {
    const match = name.match(/^atelier-(\d+)-\d+-[ab]$/);
    if (!match || Number(match[1]) === Deno.pid) continue;
    if (!(await running(match[1]))) await deleteNamespace(name);
  }
}

/** Two machines, A and B, on one virtual cable. */
class Lab {
  readonly #id = `${NS_PREFIX}${Deno.pid}-${labCount++}`;

  /** The namespace of a machine. */
  ns(machine: Machine): string {
    return `${this.#id}-${machine.toLowerCase()}`;
  }

  static async create(): Promise<Lab> {
    await removeStaleLabs();
    const lab = new Lab();
    try {
      await run("ip", ["netns", "add", lab.ns("A")]);
      await run("ip", ["netns", "add", lab.ns("B")]);
      await run("ip", [
        "-n",
        lab.ns("A"),
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        lab.ns("B"),
      ]);
      for (const machine of ["A", "B"] as const) {
        const ns = lab.ns(machine);
        await run("ip", ["-n", ns, "addr", "add", `${MACHINES[machine]}/24`, "dev", "eth0"]);
        await run("ip", ["-n", ns, "link", "set", "eth0", "up"]);
        // Deno, like any program, needs the loopback interface up for 127.0.0.1.
        await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      }
      return lab;
    } catch (err) {
      await lab.remove();
      throw err;
    }
  }

  /** Whether a socket listens on that port on a machine. */
  async listening(machine: Machine, transport: "tcp" | "udp", port: number): Promise<boolean> {
    const flag = transport === "tcp" ? "-Hltn" : "-Hlun";
    const out = await run("ip", [
      "netns",
      "exec",
      this.ns(machine),
      "ss",
      flag,
      `sport = :${port}`,
    ]);
    return out.trim() !== "";
  }

  /** Runs a shell command on a machine. */
  async sh(machine: Machine, command: string): Promise<void> {
    await run("ip", ["netns", "exec", this.ns(machine), "sh", "-c", command]);
  }

  async remove(): Promise<void> {
    await deleteNamespace(this.ns("A"));
    await deleteNamespace(this.ns("B"));
  }
}

// ---------------------------------------------------------------------------
// Terminals

let terminalCount = 0;

/** A real terminal (tmux) with bash running on one machine, in one folder. */
class Screen {
  readonly #socket = `socket-kit-course-${Deno.pid}-${terminalCount++}`;

  static async open(ns: string, folder: string): Promise<Screen> {
    const screen = new Screen();
    // A plain bash: prompt "$ ", no rc files, no history file; wide enough
    // that no line of the course wraps.
    const shell = `exec ip netns exec ${ns} env PS1='$ ' HISTFILE= NO_COLOR=1 ` +
      "bash --norc --noprofile -i";
    await screen.#tmux(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "course",
      "-x",
      "200",
      "-y",
      "50",
      "-c",
      folder,
      shell,
    );
    return screen;
  }

  async #tmux(...args: string[]): Promise<string> {
    return await run("tmux", ["-L", this.#socket, ...args]);
  }

  /** The screen's lines, history included, trailing spaces and blank lines removed. */
  async lines(): Promise<string[]> {
    const text = await this.#tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "course");
    const lines = text.split("\n").map((line) => line.trimEnd());
    while (lines.length > 0 && lines.at(-1) === "") lines.pop();
    return lines;
  }

  /** Types text, as it is, then Enter. */
  async type(text: string): Promise<void> {
    await this.#tmux("send-keys", "-t", "course", "-l", text);
    await this.#tmux("send-keys", "-t", "course", "Enter");
  }

  /**
   * Whether the program running in this terminal is blocked reading its
   * keyboard: one of its threads is in a read() of file descriptor 0. Keys
   * typed before that may be thrown away: Deno's permission prompt empties
   * the keyboard's buffer once its question is on the screen, so that no key
   * pressed earlier answers it.
   */
  async reading(): Promise<boolean> {
    const READ: Partial<Record<string, number>> = { x86_64: 0, aarch64: 63 };
    const read = READ[Deno.build.arch];
    if (read === undefined) throw new Error(`read()'s number on ${Deno.build.arch} is unknown`);
    const shell = (await this.#tmux("display-message", "-p", "-t", "course", "#{pane_pid}")).trim();
    // Deno's own file API would need --allow-all for /proc: ask a shell instead.
    const { stdout } = await new Deno.Command("sh", {
      args: [
        "-c",
        "for pid in $(cat /proc/$0/task/$0/children); do cat /proc/$pid/task/*/syscall; done",
        shell,
      ],
      stderr: "null",
    }).output();
    const syscalls = new TextDecoder().decode(stdout).split("\n");
    return syscalls.some((line) => line.startsWith(`${read} 0x0 `));
  }

  /** Presses a key: "C-c", "C-d". */
  async key(key: string): Promise<void> {
    await this.#tmux("send-keys", "-t", "course", key);
  }

  async close(): Promise<void> {
    await this.#tmux("kill-server").catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Folders the terminals start in

/** Copies a folder tree, but for what git and the builds keep. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if ([".git", "dist", "node_modules"].includes(entry.name)) continue;
    if (entry.isDirectory) await copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

const temporary: string[] = [];
let bundles: string | null = null;

/** A folder with nothing but the eight bundles, built once by `deno task bundle`. */
async function bundleFolder(): Promise<string> {
  if (bundles) return bundles;
  const dir = await Deno.makeTempDir({ prefix: "socket-kit-course-bundles-" });
  temporary.push(dir);
  const { success, stderr } = await new Deno.Command("deno", {
    args: ["task", "bundle", "--output-dir", dir],
    cwd: ROOT,
    stdout: "null",
  }).output();
  if (!success) throw new Error(`deno task bundle: ${new TextDecoder().decode(stderr)}`);
  return bundles = dir;
}

globalThis.addEventListener("unload", () => {
  for (const dir of temporary) Deno.removeSync(dir, { recursive: true });
});

// ---------------------------------------------------------------------------
// Running a scenario

/** One terminal of a scenario: its screen, its block, and how far the script went in it. */
type Term = {
  number: number;
  screen: Screen;
  block: Block;
  /** The block's lines, ports masked. */
  expected: string[];
  /** The next block line a wait may look for. */
  cursor: number;
  /** The next `$` line of the block to type. */
  command: number;
};

/** Everything every terminal shows, for a failure message. */
async function report(terms: Term[], why: string): Promise<Error> {
  let text = why;
  for (const term of terms) {
    const lines = await term.screen.lines().catch((err) => [`(no screen: ${err}`]);
    text +=
      `\n--- terminal ${term.number}, expected (${term.block.file}:${term.block.line}) ---\n` +
      term.expected.join("\n") +
      `\n--- terminal ${term.number}, on screen (ports masked) ---\n` +
      maskPorts(lines).join("\n");
  }
  return new Error(text);
}

/**
 * Polls `check` until it returns true. It may throw to fail at once (a line
 * on screen that can no longer become the expected one).
 */
async function until(terms: Term[], what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + GUARD_MS;
  while (true) {
    if (await check()) return;
    if (Date.now() > deadline) throw await report(terms, `no ${what} after ${GUARD_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS)); // poll interval, not a wait
  }
}

/**
 * Waits until the terminal shows its block's lines before `index`, and a line
 * at `index` that `ok` accepts. A complete line (any but the last on screen)
 * that differs from the block fails at once.
 */
async function waitForLine(
  terms: Term[],
  term: Term,
  index: number,
  ok: (line: string) => boolean,
  what: string,
) {
  await until(terms, `${what} on terminal ${term.number}`, async () => {
    const shown = maskPorts(await term.screen.lines());
    for (let i = 0; i < Math.min(index, shown.length); i++) {
      if (shown[i] === term.expected[i]) continue;
      if (i === shown.length - 1) return false; // still being written
      throw await report(
        terms,
        `terminal ${term.number}, line ${i + 1} differs from the course:\n` +
          `  course: ${term.expected[i]}\n  screen: ${shown[i]}`,
      );
    }
    if (shown.length <= index) return false;
    if (ok(shown[index])) return true;
    if (index < shown.length - 1) {
      throw await report(
        terms,
        `terminal ${term.number}, line ${index + 1}: expected ${what}\n` +
          `  course: ${term.expected[index]}\n  screen: ${shown[index]}`,
      );
    }
    return false;
  });
}

async function runScenario(script: Script, screens: Block[]) {
  const lab = await Lab.create();
  const terms: Term[] = [];
  let copy: string | null = null;
  try {
    let folder = ROOT;
    if (script.folder === "bundles") folder = await bundleFolder();
    if (script.folder === "copy") {
      copy = await Deno.makeTempDir({ prefix: "socket-kit-course-copy-" });
      await copyTree(ROOT.replace(/\/$/, ""), copy);
      folder = copy;
    }
    for (const block of screens) {
      const marker = block.marker as Extract<Marker, { kind: "screen" }>;
      terms.push({
        number: marker.terminal,
        screen: await Screen.open(lab.ns(marker.machine), folder),
        block,
        expected: maskPorts(block.lines),
        cursor: 0,
        command: 0,
      });
    }
    const termOf = (n: number) => terms.find((t) => t.number === n)!;
    const where = (step: Step) => `${script.file}:${script.line}, step ${JSON.stringify(step)}`;

    for (const step of script.steps) {
      switch (step.kind) {
        case "command": {
          const term = termOf(step.terminal);
          const index = term.block.lines.findIndex((l, i) =>
            i >= term.command && l.startsWith("$ ")
          );
          if (index < 0) {
            throw new Error(`${where(step)}: terminal ${term.number} has no more commands`);
          }
          // The shell is ready: its prompt is alone on the last line.
          await waitForLine(terms, term, index, (l) => l === "$", "the shell's prompt");
          const shown = await term.screen.lines();
          if (shown.length !== index + 1) {
            throw await report(terms, `terminal ${term.number} shows more than the course`);
          }
          await term.screen.type(term.block.lines[index].slice(2));
          term.command = term.cursor = index + 1;
          break;
        }
        case "type":
          await termOf(step.terminal).screen.type(step.text);
          break;
        case "key":
          await termOf(step.terminal).screen.key(step.key);
          break;
        case "wait": {
          const term = termOf(step.terminal);
          const [text] = maskPorts([step.text]);
          const index = term.expected.findIndex((l, i) => i >= term.cursor && l.includes(text));
          if (index < 0) {
            throw new Error(
              `${where(step)}: terminal ${term.number}'s block has no line with ` +
                `${JSON.stringify(text)} after line ${term.cursor}`,
            );
          }
          const line = text.trimEnd();
          await waitForLine(terms, term, index, (l) => l.includes(line), JSON.stringify(text));
          term.cursor = index + 1;
          break;
        }
        case "see": {
          const term = termOf(step.terminal);
          await until(
            terms,
            `${JSON.stringify(step.text)} on terminal ${term.number}`,
            async () => {
              return (await term.screen.lines()).some((l) => l.includes(step.text));
            },
          );
          break;
        }
        case "reading": {
          const term = termOf(step.terminal);
          await until(terms, `terminal ${term.number}'s program reading its keyboard`, () => {
            return term.screen.reading();
          });
          break;
        }
        case "listening":
          await until(
            terms,
            `a ${step.transport} socket on port ${step.port} of machine ${step.machine}`,
            () => lab.listening(step.machine, step.transport, step.port),
          );
          break;
        case "sh":
          await lab.sh(step.machine, step.command);
          break;
      }
    }

    // The end: every program has ended (the shell's prompt is back), and every
    // screen is its block.
    for (const term of terms) {
      await until(terms, `the end of terminal ${term.number}`, async () => {
        const shown = maskPorts(await term.screen.lines());
        if (shown.at(-1) !== "$") return false;
        const screen = shown.slice(0, -1);
        if (screen.join("\n") !== term.expected.join("\n")) {
          const i = screen.findIndex((line, i) => line !== term.expected[i]);
          const at = i < 0 ? screen.length : i;
          throw await report(
            terms,
            `terminal ${term.number} does not show what the course shows, from line ${at + 1}:\n` +
              `  course: ${term.expected[at] ?? "(nothing)"}\n  screen: ${
                screen[at] ?? "(nothing)"
              }`,
          );
        }
        return true;
      });
    }
  } finally {
    for (const term of terms) await term.screen.close();
    await lab.remove();
    if (copy) await Deno.remove(copy, { recursive: true });
  }
}

// ---------------------------------------------------------------------------
// The tests

/** Blocks that are no command at all: diagrams. */
const isDiagram = (block: Block) => block.info === "mermaid";

Deno.test("every block of ATELIER.md and README.md is run by a scenario, or marked not run with its reason", () => {
  for (const { file, blocks, scripts } of course) {
    for (const block of blocks) {
      const where = `${file}:${block.line}`;
      if (isDiagram(block)) continue;
      assert.ok(block.marker, `${where}: a block with no <!-- test: ... --> marker before it`);
      if (block.marker.kind === "not run") {
        assert.ok(block.marker.reason.trim().length > 10, `${where}: say why it is not run`);
      }
      if (block.marker.kind === "screen") {
        assert.equal(block.info, "console", `${where}: a screen is a console block`);
        assert.match(block.lines[0] ?? "", /^\$ /, `${where}: a screen starts with a command`);
        const { scenario } = block.marker;
        assert.ok(scripts.some((s) => s.name === scenario), `${where}: no script for ${scenario}`);
      }
      if (block.marker.kind === "excerpt") assert.equal(block.info, "ts", where);
    }
    for (const script of scripts) {
      const where = `${file}:${script.line}`;
      const screens = blocks.filter((b) =>
        b.marker?.kind === "screen" && b.marker.scenario === script.name
      );
      const numbers = screens.map((b) => (b.marker as { terminal: number }).terminal);
      assert.ok(screens.length > 0, `${where}: script ${script.name} has no screen`);
      assert.equal(new Set(numbers).size, numbers.length, `${where}: a terminal shown twice`);
      assert.equal(scripts.filter((s) => s.name === script.name).length, 1, `${where}: twice`);
      for (const step of script.steps) {
        if ("terminal" in step) {
          assert.ok(numbers.includes(step.terminal), `${where}: no terminal ${step.terminal}`);
        }
      }
      // Each `$` command of each screen is typed by exactly one step.
      for (const screen of screens) {
        const n = (screen.marker as { terminal: number }).terminal;
        const commands = screen.lines.filter((l) => l.startsWith("$ ")).length;
        const typed = script.steps.filter((s) => s.kind === "command" && s.terminal === n).length;
        assert.equal(typed, commands, `${where}: terminal ${n} has ${commands} commands`);
      }
    }
  }
});

Deno.test("ATELIER.md keeps the course's order: UDP client, TCP client, UDP server, TCP server, exercises", () => {
  const text = Deno.readTextFileSync(`${ROOT}ATELIER.md`);
  const parts = [...text.matchAll(/^## (\d)\. (.*)$/gm)].map((m) => `${m[1]}. ${m[2]}`);
  assert.deepEqual(parts, [
    "1. Le client UDP — `udp_client.ts`",
    "2. Le client TCP — `tcp_client.ts`",
    "3. Le serveur UDP — `udp_server.ts`",
    "4. Le serveur TCP — `tcp_server.ts`",
    "5. Les exercices",
  ]);
  // Every lesson's screens run that lesson, in its own part.
  for (
    const [part, lesson] of [
      ["1", "udp_client.ts"],
      ["2", "tcp_client.ts"],
      ["3", "udp_server.ts"],
      ["4", "tcp_server.ts"],
    ]
  ) {
    const start = text.indexOf(`## ${part}. `);
    const section = text.slice(start, text.indexOf("\n## ", start + 1));
    assert.ok(section.includes(`$ deno run --allow-net ${lesson}`), `part ${part} runs ${lesson}`);
  }
});

Deno.test("maskPorts() names each client port by order of appearance, and keeps 8888 and 5000", () => {
  assert.deepEqual(
    maskPorts([
      "[127.0.0.1:51240] Client connecté",
      "[192.168.1.21:40001] Reçu : 127.0.0.1:8888",
      "[127.0.0.1:51240] Déconnecté 127.0.0.1:5000",
    ]),
    [
      "[127.0.0.1:PORT1] Client connecté",
      "[192.168.1.21:PORT2] Reçu : 127.0.0.1:8888",
      "[127.0.0.1:PORT1] Déconnecté 127.0.0.1:5000",
    ],
  );
});

Deno.test("every excerpt of a lesson in ATELIER.md is found, line for line, in that lesson", () => {
  for (const { file, blocks } of course) {
    for (const block of blocks) {
      if (block.marker?.kind !== "excerpt") continue;
      const lesson = Deno.readTextFileSync(`${ROOT}${block.marker.lesson}`).split("\n")
        .map((line) => line.trim());
      // In order, skipping lines of the lesson between them (a "..." line in the excerpt).
      let at = 0;
      for (const line of block.lines.map((l) => l.trim()).filter((l) => l !== "" && l !== "...")) {
        const found = lesson.indexOf(line, at);
        assert.ok(
          found >= 0,
          `${file}:${block.line}: "${line}" is not in ${block.marker.lesson} (after line ${at})`,
        );
        at = found + 1;
      }
    }
  }
});

const missing = ["tmux", "nc", "ss"].filter((tool) => !hasTool(tool));
const noLab = whyNoNetns() ?? (missing.length > 0 ? `${missing.join(", ")} not installed` : null);
for (const { file, blocks, scripts } of course) {
  for (const script of scripts) {
    const screens = blocks.filter((b) =>
      b.marker?.kind === "screen" && b.marker.scenario === script.name
    );
    const ignore = noLab !== null && !IN_CI;
    const name = `${file}, scenario ${script.name}: each screen is what the programs print`;
    Deno.test({
      name: ignore ? `${name} (ignored: ${noLab})` : name,
      ignore,
      fn: () => runScenario(script, screens),
    });
  }
}
