/**
 * netns.ts -- hosts of their own for tests, made of network namespaces.
 *
 * - Two hosts: namespaces "server" (10.231.0.1/24) and "client"
 *   (10.231.0.2/24) joined by a veth pair.
 * - A private host: one namespace with only its loopback, where nothing else
 *   runs, so that every port is free, the workshop's 8888 and 5000 included,
 *   whatever runs on the machine itself.
 *
 * The addresses exist only inside the namespaces, so no packet of these
 * tests ever leaves the machine. The veth pair is created inside the
 * namespaces, never in the host's own; deleting the namespaces deletes it.
 * Names carry the test process's pid: two runs cannot collide, and a run
 * that was killed is cleaned up by the next one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { GUARD_MS, hasTool, IN_CI, isRunning, program, Running } from "./helpers.ts";

/** The server's and the client's addresses. */
export const SERVER_IP = "10.231.0.1";
export const CLIENT_IP = "10.231.0.2";
/** Every namespace of ours starts with this, then the test process's pid (as our tmux sockets). */
const PREFIX = "socket-kit-";

let count = 0;
/** The namespaces that exist now, to delete if the tests are interrupted. */
const alive = new Set<string>();

/** Runs `ip` (or another command) and fails with its stderr, or if it does not end. */
async function run(command: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(command, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(GUARD_MS), // a guard: ip and nft answer at once
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const { success, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  if (!success) throw new Error(`${command} ${args.join(" ")}: ${decoder.decode(stderr)}`);
  return decoder.decode(stdout);
}

/** Our namespaces' names: the test process's pid, a count, the host. */
const OURS = /^socket-kit-(\d+)-\d+-(server|client|private)$/;

/** Our namespaces that exist now. */
export async function ourNamespaces(): Promise<string[]> {
  const list = await run("ip", ["netns", "list"]);
  return list.split("\n").map((line) => line.split(" ")[0]).filter((name) => OURS.test(name));
}

/**
 * Deletes the namespaces left by test runs that were killed (their pid is
 * gone). Those of runs going on at the same time are theirs: left alone.
 */
async function removeStale(): Promise<void> {
  for (const name of await ourNamespaces()) {
    const pid = Number(name.match(OURS)![1]);
    if (pid === Deno.pid || isRunning(pid)) continue;
    await run("ip", ["netns", "delete", name]).catch(() => {});
  }
}

/** Why these tests cannot run here, or null if they can. */
export function whyNoNetns(): string | null {
  const missing = ["ip", "nft"].filter((tool) => !hasTool(tool));
  if (missing.length > 0) return `${missing.join(", ")} not installed`;
  if (Deno.uid() !== 0) return "needs root for ip netns";
  return null;
}

/**
 * Registers a test that needs the two hosts. Where it cannot run (not root,
 * no `ip` or `nft`), it shows as ignored with the reason; in CI it runs anyway
 * and fails, since CI must run it.
 */
export function testTwoHosts(name: string, fn: (hosts: TwoHosts) => Promise<void>): void {
  const why = whyNoNetns();
  const ignore = why !== null && !IN_CI;
  Deno.test({
    name: ignore ? `${name} (ignored: ${why})` : name,
    ignore,
    fn: async () => {
      const hosts = await TwoHosts.create();
      try {
        await fn(hosts);
      } finally {
        await hosts.remove();
      }
      // Nothing may be left behind: no namespace, so no link either.
      const left = (await ourNamespaces()).filter((n) => n === hosts.server || n === hosts.client);
      if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(", ")}`);
    },
  });
}

/** Two hosts joined by a cable; `remove()` deletes them. */
export class TwoHosts {
  readonly server: string;
  readonly client: string;
  #processes: Running[] = [];

  private constructor(id: string) {
    this.server = `${PREFIX}${id}-server`;
    this.client = `${PREFIX}${id}-client`;
  }

  /** Builds the two namespaces, the veth pair between them, and their addresses. */
  static async create(): Promise<TwoHosts> {
    await removeStale();
    const hosts = new TwoHosts(`${Deno.pid}-${count++}`);
    try {
      await addNamespace(hosts.server);
      await addNamespace(hosts.client);
      // One end in each namespace, from the start: nothing touches the host's own links.
      await run("ip", [
        "-n",
        hosts.server,
        "link",
        "add",
        "veth0",
        "type",
        "veth",
        "peer",
        "name",
        "veth0",
        "netns",
        hosts.client,
      ]);
      for (const [ns, ip] of [[hosts.server, SERVER_IP], [hosts.client, CLIENT_IP]]) {
        await run("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", "veth0"]);
        await run("ip", ["-n", ns, "link", "set", "veth0", "up"]);
      }
      return hosts;
    } catch (err) {
      await hosts.remove();
      throw err;
    }
  }

  /** The namespace of a host. */
  ns(host: "server" | "client"): string {
    return host === "server" ? this.server : this.client;
  }

  /** Starts a command on one host. */
  start(host: "server" | "client", command: string, args: string[], stdin?: "piped"): Running {
    const process = startIn(this.ns(host), command, args, stdin);
    this.#processes.push(process);
    return process;
  }

  /** Starts one of our programs on one host, as `deno run --allow-net FILE`. */
  program(host: "server" | "client", file: string, args: string[] = [], stdin?: "piped"): Running {
    return this.start(host, "deno", ["run", "--allow-net", file, ...args], stdin);
  }

  /** Loads nftables rules into a host's firewall (`nft -f -`). */
  async firewall(host: "server" | "client", rules: string): Promise<void> {
    await run("ip", ["netns", "exec", this.ns(host), "nft", "-f", "-"], rules);
  }

  /** Ends what still runs on the hosts, then deletes both namespaces (and so the veth pair). */
  async remove(): Promise<void> {
    for (const process of this.#processes) await process[Symbol.asyncDispose]();
    for (const ns of [this.server, this.client]) await deleteNamespace(ns);
  }
}

/** Creates a namespace, with its loopback up. */
async function addNamespace(name: string): Promise<void> {
  alive.add(name);
  await run("ip", ["netns", "add", name]);
  await run("ip", ["-n", name, "link", "set", "lo", "up"]);
}

/** Deletes a namespace, if it exists. */
async function deleteNamespace(name: string): Promise<void> {
  alive.delete(name);
  await run("ip", ["netns", "delete", name]).catch(() => {});
}

/** Starts a command inside a namespace. */
function startIn(ns: string, command: string, args: string[], stdin?: "piped"): Running {
  return new Running("ip", ["netns", "exec", ns, command, ...args], { stdin });
}

/**
 * A host of its own: one namespace with only a loopback (127.0.0.1 and ::1).
 * Nothing else runs there, so every port is free until a test takes it. Its
 * processes end, and the namespace goes, with `await using`.
 */
export class PrivateHost {
  readonly name: string;
  #processes: Running[] = [];

  private constructor(id: string) {
    this.name = `${PREFIX}${id}-private`;
  }

  /** Builds the namespace. */
  static async create(): Promise<PrivateHost> {
    await removeStale();
    const host = new PrivateHost(`${Deno.pid}-${count++}`);
    try {
      await addNamespace(host.name);
      return host;
    } catch (err) {
      await host[Symbol.asyncDispose]();
      throw err;
    }
  }

  /** Starts a command on this host. */
  start(command: string, args: string[], stdin?: "piped"): Running {
    const process = startIn(this.name, command, args, stdin);
    this.#processes.push(process);
    return process;
  }

  /** Starts one of our programs on this host, as `deno run --allow-net FILE`. */
  program(file: string, args: string[] = [], stdin?: "piped"): Running {
    return this.start("deno", ["run", "--allow-net", file, ...args], stdin);
  }

  /** Ends what still runs on the host, then deletes the namespace. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const process of this.#processes) await process[Symbol.asyncDispose]();
    await deleteNamespace(this.name);
  }
}

/**
 * Registers a test that runs on a private host and needs `tools`. Where it
 * cannot run (not root, a tool missing), it shows as ignored with the
 * reason; in CI it runs anyway, and fails.
 */
export function testOnPrivateHost(
  tools: string[],
  name: string,
  fn: (host: PrivateHost) => Promise<void>,
): void {
  const missing = tools.filter((tool) => !hasTool(tool));
  const why = missing.length > 0 ? `${missing.join(", ")} not installed` : whyNoNetns();
  const ignore = why !== null && !IN_CI;
  Deno.test({
    name: ignore ? `${name} (ignored: ${why})` : name,
    ignore,
    fn: async () => {
      await using host = await PrivateHost.create();
      await fn(host);
    },
  });
}

/**
 * Checks that a server started with no flags at all prints the workshop's
 * ready line for its default port, then stops cleanly on SIGTERM with its end
 * line (the course's, "Fin du programme" unless said otherwise). It runs on
 * a private host, where that port is free whatever runs on this machine.
 * Where there can be no private host (not root, outside CI), it runs here,
 * and a port held by another program makes the port-in-use line the right answer.
 */
export async function assertReadyOnDefaultPort(
  file: string,
  ready: string,
  port: number,
  endLine = "Fin du programme",
) {
  if (whyNoNetns() !== null && !IN_CI) {
    await using server = program(file);
    const listening = await server.waitFor(/\.\.\.\n/).then(() => true, () => false);
    if (listening) assert.equal(server.stdout, `${ready}\n`);
    else {
      const { code, stderr } = await server.finished();
      assert.equal(code, 1, server.transcript());
      assert.match(stderr, new RegExp(`^Erreur: le port ${port} est déjà utilisé`));
    }
    return;
  }
  await using host = await PrivateHost.create();
  const server = host.program(file);
  await server.waitFor("...\n");
  assert.equal(server.stdout, `${ready}\n`);
  server.kill("SIGTERM");
  const { code, stdout, stderr } = await server.finished();
  assert.equal(code, 0, server.transcript());
  assert.equal(stdout, `${ready}\n${endLine}\n`);
  assert.equal(stderr, "");
}

// Interrupted (Ctrl+C, SIGTERM)? Remove what exists before leaving.
if (whyNoNetns() === null) {
  const cleanUp = () => {
    for (const ns of alive) new Deno.Command("ip", { args: ["netns", "delete", ns] }).outputSync();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", cleanUp);
  Deno.addSignalListener("SIGTERM", cleanUp);
}
