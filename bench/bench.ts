/**
 * bench.ts -- measures the programs against the peers students would otherwise
 * use: the workshop's Python, a careful Python, nc, and a bare Deno loop.
 *
 *   deno task bench          the full run; writes bench/RESULTS.md
 *   deno task bench:quick    the same harness with tiny sizes (CI runs it)
 *   deno run -A bench/bench.ts --only 1,4    some workloads only (add --quick for tiny sizes)
 *
 * Peers are interleaved round by round (A B C, A B C, ...), so that the drift
 * of a noisy machine hits them all alike; each figure is the median of the
 * rounds, with min-max. Goals are ratios measured in the same run, never
 * absolute times. Needs /usr/bin/python3, nc, taskset, hyperfine and a C
 * compiler (cc).
 *
 * The load comes from bench/loadgen.c, which this script builds with `cc -O2`
 * at each run (into a temporary directory): a client in C costs the servers
 * it drives far less than they cost themselves, so the ratios describe the
 * servers. The Python and bare Deno programs are only servers. Every server
 * binds port 0 and the script reads the port the kernel gave it in /proc: no
 * other process can take it in between.
 *
 * @module
 */
import { stripTypeScriptTypes } from "node:module";

const QUICK = Deno.args.includes("--quick");
/** `--only 1,4`: run only these workloads (the RESULTS file is then not written). */
const ONLY = Deno.args.includes("--only")
  ? Deno.args[Deno.args.indexOf("--only") + 1].split(",").map(Number)
  : [1, 2, 3, 4, 5, 6];
const ROOT = new URL("..", import.meta.url).pathname;
const PY = "/usr/bin/python3";
/** The command of a bare Deno floor (bench/bare.ts) in `mode`, on a port the kernel picks. */
function bare(mode: string, ...rest: string[]): string[] {
  return ["deno", "run", "--allow-net", "bench/bare.ts", mode, "0", ...rest];
}
const BUILD = Deno.makeTempDirSync({ prefix: "socket-kit-bench-" });
const LOADGEN = `${BUILD}/loadgen`;
const CC = ["cc", "-O2", "-Wall", "-Wextra", "-o", LOADGEN, "bench/loadgen.c"];
const ROUNDS = 3;
const MiB = 1024 * 1024;

const SIZE = QUICK
  ? {
    stream: 8 * MiB,
    trips: 300,
    tripsWarmup: 30,
    clients: 50,
    clientTrips: 5,
    burst: 5000,
    paced: 2000,
    idle: 100,
  }
  : {
    stream: 1024 * MiB,
    trips: 20_000,
    tripsWarmup: 2_000,
    clients: 1000,
    clientTrips: 50,
    burst: 200_000,
    paced: 20_000,
    idle: 1000,
  };
const RATES = QUICK
  ? [10_000, 50_000]
  : [10_000, 25_000, 50_000, 75_000, 100_000, 150_000, 200_000];

// --- processes ---------------------------------------------------------------

/** Builds bench/loadgen.c (the load of every workload). */
async function buildLoadgen() {
  let result;
  try {
    result = await new Deno.Command(CC[0], { args: CC.slice(1), cwd: ROOT, stderr: "inherit" })
      .output();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new Error("no C compiler (cc): apt-get install gcc libc6-dev");
  }
  if (!result.success) throw new Error(`failed: ${CC.join(" ")}`);
}

/**
 * The port a server listens on (TCP) or is bound to (UDP). The server binds port 0 and the
 * kernel picks a free one; we find it among the process's sockets in /proc (its inode in
 * /proc/PID/fd, its port in /proc/PID/net/tcp or udp). This also waits until it listens.
 */
async function portOf(child: Deno.ChildProcess, transport: "tcp" | "udp"): Promise<number> {
  let exited = false;
  child.status.then(() => exited = true);
  const state = transport === "tcp" ? "0A" : "07"; // LISTEN; a UDP socket not connected
  for (let tries = 0; tries < 4000 && !exited; tries++) {
    const inodes = new Set<string>();
    try {
      for (const entry of Deno.readDirSync(`/proc/${child.pid}/fd`)) {
        try {
          const link = Deno.readLinkSync(`/proc/${child.pid}/fd/${entry.name}`);
          const inode = link.match(/^socket:\[(\d+)\]$/)?.[1];
          if (inode) inodes.add(inode);
        } catch { /* closed meanwhile */ }
      }
      for (const table of [transport, `${transport}6`]) {
        const lines = Deno.readTextFileSync(`/proc/${child.pid}/net/${table}`).split("\n");
        for (const line of lines.slice(1)) {
          const fields = line.trim().split(/\s+/); // sl local remote st ... uid timeout inode
          if (fields.length > 9 && fields[3] === state && inodes.has(fields[9])) {
            return parseInt(fields[1].split(":")[1], 16);
          }
        }
      }
    } catch { /* the process is starting or ending */ }
    await sleep(5);
  }
  throw new Error(
    `${child.pid}: ${exited ? "the server ended before it bound a port" : "no port bound in 20 s"}`,
  );
}

/** Starts a server with stdout to /dev/null (or to `file`). */
function server(cmd: string[], file?: string): Deno.ChildProcess {
  // Python buffers its stdout when it is not a terminal, as a student's would be:
  // some machines set PYTHONUNBUFFERED, which costs a write per part of a print.
  const env = { PYTHONUNBUFFERED: "" };
  if (file) {
    return new Deno.Command("sh", {
      args: ["-c", `exec "$@" > ${file}`, "sh", ...cmd],
      cwd: ROOT,
      env,
      stdin: "null",
      stderr: "inherit",
    }).spawn();
  }
  return new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/** Starts a server that binds port 0 and returns it with its port. */
async function serve(
  cmd: string[],
  transport: "tcp" | "udp" = "tcp",
  file?: string,
): Promise<{ child: Deno.ChildProcess; port: number }> {
  const child = server(cmd, file);
  try {
    return { child, port: await portOf(child, transport) };
  } catch (err) {
    await stop(child);
    throw err;
  }
}

/** Runs the load generator to the end (after `prefix`, e.g. taskset) and parses its JSON line. */
async function load(args: string[], prefix: string[] = []): Promise<Record<string, number>> {
  const cmd = [...prefix, LOADGEN, ...args];
  const { success, stdout } = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    stdin: "null",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error(`failed: ${cmd.join(" ")}`);
  return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
}

/** Stops a server (if still running) and reaps it. */
async function stop(child: Deno.ChildProcess, signal: Deno.Signal = "SIGTERM") {
  try {
    child.kill(signal);
  } catch { /* exited already */ }
  await child.status;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `file` holds `text` (a server's ready line). Polling is fine in a benchmark. */
async function waitForFile(file: string, text: string) {
  for (let tries = 0; tries < 2000; tries++) {
    try {
      if (Deno.readTextFileSync(file).includes(text)) return;
    } catch { /* not created yet */ }
    await sleep(5);
  }
  throw new Error(`no "${text}" in ${file}`);
}

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/^VmRSS:\s+(\d+) kB/m)![1]) * 1024;
}

// --- figures -------------------------------------------------------------------

type Peer = { name: string; ours?: boolean };
type Figures = Map<string, number[]>;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const report: string[] = [];
const goals: {
  workload: string;
  goal: string;
  value: string;
  met: boolean;
  moonshot?: boolean;
}[] = [];
const say = (line = "") => {
  console.log(line);
  report.push(line);
};

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** The line under a table's title that says what drove it. */
const LOADGEN_CLIENT = "Client: `bench/loadgen.c` (C, `cc -O2`)";

/** Prints a table: each peer's median and min-max, and the ratio of ours to it. */
function table(
  title: string,
  client: string,
  unit: string,
  figures: Figures,
  higherIsBetter: boolean,
) {
  say(`\n### ${title}\n`);
  say(`${client}\n`);
  say(`| peer | median (${unit}) | min–max | ours ÷ peer |`);
  say("| --- | ---: | ---: | ---: |");
  const ours = median([...figures.entries()].find(([name]) => name.startsWith("ours"))![1]);
  for (const [name, xs] of figures) {
    const m = median(xs);
    const ratio = higherIsBetter ? ours / m : m / ours;
    say(
      `| ${name} | ${fmt(m)} | ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))} | ${
        name.startsWith("ours") ? "—" : Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "n/a"
      } |`,
    );
  }
}

/** Records a goal "ratio ≥ min". */
function atLeast(workload: string, text: string, ratio: number, min: number) {
  goal(workload, text, ratio, ratio >= min);
}

/** Records a goal on a ratio (or value) and whether it is met. */
function goal(workload: string, text: string, value: number, met: boolean, unit = "×") {
  goals.push({ workload, goal: text, value: `${value.toFixed(2)}${unit}`, met });
}

/** Records a moonshot: a goal beyond the issue's own, shown as such. */
function moonshot(workload: string, text: string, ratio: number, min: number) {
  goals.push({
    workload,
    goal: `moonshot: ${text}`,
    value: `${ratio.toFixed(2)}×`,
    met: ratio >= min,
    moonshot: true,
  });
}

const get = (figures: Figures, name: string) => median(figures.get(name)!);

/** Runs `measure` for each peer, round by round, and collects the figures. */
async function rounds(
  peers: string[],
  measure: (peer: string) => Promise<number>,
  count = ROUNDS,
): Promise<Figures> {
  const figures: Figures = new Map(peers.map((p) => [p, []]));
  for (let round = 0; round < count; round++) {
    for (const peer of peers) figures.get(peer)!.push(await measure(peer));
  }
  return figures;
}

// --- 1. line stream ----------------------------------------------------------

async function lineStream() {
  const servers: Record<string, string[]> = {
    "ours: tcp_server.ts": ["deno", "run", "--allow-net", "tcp_server.ts", "--port", "0"],
    "workshop Python": [PY, "bench/peers.py", "workshop-tcp-server", "0"],
    "careful Python": [PY, "bench/peers.py", "careful-tcp-server", "0"],
    "nc >/dev/null": ["nc", "-d", "-l", "127.0.0.1", "0"],
    "bare Deno loop": bare("line-sink"),
    "messages() loop, no print": bare("message-loop"),
    "bare per-line print loop": bare("line-print"),
    "bare per-line print loop, async writes": bare("line-print-async"),
  };
  const figures = await rounds(Object.keys(servers), async (peer) => {
    const { child, port } = await serve(servers[peer]);
    const { bytes, seconds } = await load(["send-lines", `${port}`, `${SIZE.stream}`]);
    await child.status;
    return bytes / seconds / 1e6;
  });
  table(
    `1. Line stream: ${SIZE.stream / MiB} MiB of 100-byte lines, stdout to /dev/null`,
    `${LOADGEN_CLIENT}: 1 MiB blocks of lines, then \`shutdown(SHUT_WR)\`; the time runs until the server closes.`,
    "MB/s",
    figures,
    true,
  );
  const ours = get(figures, "ours: tcp_server.ts");
  const w = "1. line stream";
  atLeast(w, "≥ 1.5× the workshop-style Python", ours / get(figures, "workshop Python"), 1.5);
  goal(w, "(report) ratio to the careful Python", ours / get(figures, "careful Python"), true);
  goal(w, "(report) ratio to raw nc", ours / get(figures, "nc >/dev/null"), true);
  const shape = get(figures, "messages() loop, no print") / get(figures, "workshop Python");
  goal(w, "(report) the lessons' loop alone, no print ÷ the workshop-style Python", shape, true);
  // The floor of a loop that prints each line as the lessons do (see bare.ts line-print).
  const perLine = get(figures, "bare per-line print loop");
  const floor = perLine / get(figures, "workshop Python");
  goal(w, "(floor) the leanest per-line print loop ÷ the workshop-style Python", floor, true);
  goal(w, "(report) ours ÷ the leanest per-line print loop", ours / perLine, true);
  const perLineAsync = get(figures, "bare per-line print loop, async writes");
  goal(w, "(report) ours ÷ the same loop with asynchronous writes", ours / perLineAsync, true);
}

// --- 2. request-reply ----------------------------------------------------------

/** Servers whose reply has no "\n" (the workshop's strips the request and adds none). */
const RAW_REPLY = new Set(["workshop Python (blocking)"]);

async function requestReply() {
  const servers: Record<string, string[]> = {
    "ours: ex1_tcp_server.ts": [
      "deno",
      "run",
      "--allow-net",
      "exercises/ex1_tcp_server.ts",
      "--port",
      "0",
    ],
    "Python asyncio": [PY, "bench/peers.py", "asyncio-ex1-server", "0"],
    "workshop Python (blocking)": [PY, "bench/peers.py", "workshop-ex1-server", "0"],
    "bare Deno loop": bare("echo"),
    "bare + UTF-8 text": bare("echo-text"),
    "bare + text + LineReader": bare("echo-lines"),
    "bare + text + LineReader + print": bare("echo-print"),
  };
  for (const pinned of [false, true]) {
    const pin = pinned ? ["taskset", "-c", "0"] : [];
    const figures = await rounds(Object.keys(servers), async (peer) => {
      const { child, port } = await serve([...pin, ...servers[peer]]);
      const raw = RAW_REPLY.has(peer) ? ["--raw"] : [];
      // Timed after a warm-up, as the UDP burst: a server runs for longer than its first
      // moments, while Deno's compilers still work on the code.
      const warmup = ["--warmup", `${SIZE.tripsWarmup}`];
      const r = await load(["round-trips", `${port}`, `${SIZE.trips}`, ...raw, ...warmup], pin);
      await stop(child);
      return r.round_trips / r.seconds;
    });
    const how = pinned ? "server and client pinned to one core (taskset -c 0)" : "unpinned";
    table(
      `2. Request-reply: ${SIZE.trips} sequential round trips, one client, ${how}`,
      `${LOADGEN_CLIENT}: one \`send\` per request, reads until the reply's "\\n" (the workshop's server sends none: until the reply's length); timed after ${SIZE.tripsWarmup} round trips of warm-up.`,
      "round trips/s",
      figures,
      true,
    );
    const ours = get(figures, "ours: ex1_tcp_server.ts");
    const w = `2. request-reply (${pinned ? "pinned" : "unpinned"})`;
    atLeast(w, "≥ 1.3× Python asyncio", ours / get(figures, "Python asyncio"), 1.3);
    atLeast(w, "≥ 0.9× the bare Deno floor", ours / get(figures, "bare Deno loop"), 0.9);
    const printing = get(figures, "bare + text + LineReader + print");
    goal(
      w,
      "(floor) the bare loop with the lesson's text, lines and print ÷ the bare loop",
      printing / get(figures, "bare Deno loop"),
      true,
    );
    goal(w, "(report) ours ÷ that floor", ours / printing, true);
    moonshot(
      w,
      "≥ 0.8× the workshop's blocking Python",
      ours / get(figures, "workshop Python (blocking)"),
      0.8,
    );
  }
}

// --- 3. many clients -------------------------------------------------------------

/** The servers of many clients at once (3. and 5.). */
const MANY_CLIENT_SERVERS: Record<string, string[]> = {
  "ours: ex1_tcp_server.ts -k": [
    "deno",
    "run",
    "--allow-net",
    "exercises/ex1_tcp_server.ts",
    "-k",
    "--port",
    "0",
  ],
  "Python asyncio": [PY, "bench/peers.py", "asyncio-ex1-server", "0"],
  "bare Deno loop": bare("echo", "-k"),
};

async function manyClients() {
  const servers = MANY_CLIENT_SERVERS;
  const errors = new Map<string, number>();
  const p50s: Figures = new Map(Object.keys(servers).map((p) => [p, []]));
  const p99s: Figures = new Map(Object.keys(servers).map((p) => [p, []]));
  const times = await rounds(Object.keys(servers), async (peer) => {
    const { child, port } = await serve(servers[peer]);
    const r = await load(["many-clients", `${port}`, `${SIZE.clients}`, `${SIZE.clientTrips}`]);
    await stop(child);
    errors.set(peer, (errors.get(peer) ?? 0) + r.errors);
    p50s.get(peer)!.push(r.p50 * 1000);
    p99s.get(peer)!.push(r.p99 * 1000);
    return r.seconds;
  });
  const title = `3. Many clients: ${SIZE.clients} clients × ${SIZE.clientTrips} round trips`;
  const client =
    `${LOADGEN_CLIENT}: one thread, epoll; every client connects at once, then sends its next request as soon as it has its reply.`;
  table(`${title}, total time`, client, "s", times, false);
  table(`${title}, p50 latency after the first round trip`, client, "ms", p50s, false);
  table(`${title}, p99 latency after the first round trip`, client, "ms", p99s, false);
  say(`\nErrors: ${[...errors].map(([p, n]) => `${p} ${n}`).join(", ")}`);
  const w = "3. many clients";
  const ours = "ours: ex1_tcp_server.ts -k";
  goal(w, "0 errors", errors.get(ours)!, errors.get(ours) === 0, "");
  goal(
    w,
    "total time ≤ asyncio's (ours ÷ asyncio)",
    get(times, ours) / get(times, "Python asyncio"),
    get(times, ours) <= get(times, "Python asyncio"),
  );
  goal(
    w,
    "p99 ≤ 1.5× asyncio's (ours ÷ asyncio)",
    get(p99s, ours) / get(p99s, "Python asyncio"),
    get(p99s, ours) <= 1.5 * get(p99s, "Python asyncio"),
  );
}

// --- 4. UDP burst ------------------------------------------------------------------

const udpServers: Record<string, string[]> = {
  "ours: udp_server.ts": [
    "deno",
    "run",
    "--allow-net",
    "udp_server.ts",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ],
  "workshop Python (print)": [PY, "bench/peers.py", "workshop-udp-server", "0"],
  "bare Deno loop": bare("udp"),
};

/** Sends `count` datagrams (paced at `rate`/s, or as fast as possible) and counts what the server printed. */
async function udpRun(peer: string, count: number, rate = 0): Promise<number> {
  const file = await Deno.makeTempFile({ dir: "/dev/shm", prefix: "socket-kit-bench-" });
  const { child, port } = await serve(udpServers[peer], "udp", file);
  await waitForFile(file, `port ${port}`); // bound, and now in its receive loop
  // Warm up first (Deno compiles its hot code as it runs): 2000 datagrams of "w" at 10k/s.
  await load(["udp-burst", `${port}`, "2000", "10000", "w"]);
  await sleep(200);
  await load(["udp-burst", `${port}`, `${count}`, `${rate}`]);
  await sleep(300); // let the server empty its socket buffer
  await stop(child, "SIGINT");
  const printed = Deno.readTextFileSync(file).split("\n").filter((l) => l.includes("mmmm")).length;
  Deno.removeSync(file);
  return printed;
}

async function udpBurst() {
  const peers = Object.keys(udpServers);
  const received = await rounds(
    peers,
    async (peer) => 100 * (await udpRun(peer, SIZE.burst)) / SIZE.burst,
  );
  table(
    `4. UDP burst: ${SIZE.burst} datagrams of 64 bytes, as fast as one sender goes`,
    `${LOADGEN_CLIENT}: \`sendto\` in a loop, after 2,000 datagrams of warm-up at 10k/s.`,
    "% received",
    received,
    true,
  );
  const best: Figures = new Map(peers.map((p) => [p, []]));
  for (let round = 0; round < (QUICK ? 1 : ROUNDS); round++) {
    for (const peer of peers) {
      let highest = 0;
      for (const rate of RATES) {
        if ((await udpRun(peer, SIZE.paced, rate)) < SIZE.paced) break;
        highest = rate;
      }
      best.get(peer)!.push(highest / 1000);
    }
  }
  table(
    `4. UDP paced: highest loss-free rate (${SIZE.paced} datagrams per try, rates ${
      RATES.join(", ")
    }/s)`,
    `${LOADGEN_CLIENT}: each datagram at its due time (\`clock_nanosleep\`, then a busy wait on \`clock_gettime\`).`,
    "k datagrams/s",
    best,
    true,
  );
  const w = "4. UDP";
  const ours = "ours: udp_server.ts";
  const py = "workshop Python (print)";
  goal(
    w,
    "receives ≥ 0.95× what Python receives",
    get(received, ours) / get(received, py),
    get(received, ours) >= 0.95 * get(received, py),
  );
  goal(
    w,
    "highest loss-free rate ≥ Python's",
    get(best, ours) / Math.max(get(best, py), 1e-9),
    get(best, ours) >= get(best, py),
  );
}

// --- 5. memory ------------------------------------------------------------------------

async function memory() {
  const servers = MANY_CLIENT_SERVERS;
  const figures = await rounds(Object.keys(servers), async (peer) => {
    const { child, port } = await serve(servers[peer]);
    const clients = new Deno.Command(LOADGEN, {
      args: ["idle-clients", `${port}`, `${SIZE.idle}`],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const reader = clients.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read(); // "open": every connection is up
    if (!value?.startsWith("open")) throw new Error("loadgen idle-clients failed");
    await sleep(200); // let the server take them all in
    const bytes = rss(child.pid);
    await clients.stdin.close();
    await reader.cancel();
    await clients.status;
    await stop(child);
    return bytes / MiB;
  });
  table(
    `5. Memory: RSS with ${SIZE.idle} idle connections`,
    `${LOADGEN_CLIENT}: opens the connections one after the other, then holds them.`,
    "MiB",
    figures,
    false,
  );
  const ours = get(figures, "ours: ex1_tcp_server.ts -k");
  const above = ours - get(figures, "bare Deno loop");
  goal(
    "5. memory",
    `RSS with ${SIZE.idle} idle connections ≤ 4 MiB above the bare Deno floor (ours − floor)`,
    above,
    above <= 4,
    " MiB",
  );
}

// --- 6. start-up ------------------------------------------------------------------------

async function startUp() {
  // Many short rounds rather than a few long ones: a burst of load on a shared machine then
  // moves one round of each program, not all the runs of one program.
  const runs = QUICK ? 3 : 10;
  const count = QUICK ? ROUNDS : 10;
  // The TCP client needs a server; the UDP client's datagrams go to a socket held here.
  const sink = await serve(["deno", "run", "--allow-net", "tcp_server.ts", "-k", "--port", "0"]);
  const udpSink = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const udpPort = (udpSink.addr as Deno.NetAddr).port;
  // The same two clients as one JavaScript file each (`deno task bundle`): the same code,
  // loaded without lib/'s TypeScript modules.
  const dist = `${BUILD}/dist`;
  const bundled = await new Deno.Command("deno", {
    args: ["run", "-A", "scripts/bundle.ts", "--output-dir", dist],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!bundled.success) throw new Error("deno task bundle failed");
  // The same two clients with lib/ as JavaScript modules: each file with its types stripped,
  // so that Deno loads it without the TypeScript emit and its inline source map.
  const js = `${BUILD}/js`;
  writeAsJavaScript(js, ["udp_client.ts", "tcp_client.ts"]);
  const commands: Record<string, string> = {
    "ours: udp_client.ts": `deno run --allow-net udp_client.ts --port ${udpPort}`,
    "Python: workshop UDP client": `${PY} bench/workshop_udp_client.py ${udpPort}`,
    "ours: tcp_client.ts": `deno run --allow-net tcp_client.ts --port ${sink.port}`,
    "Python: workshop TCP client": `${PY} bench/workshop_tcp_client.py ${sink.port}`,
    "floor: deno run empty.ts": "deno run bench/empty.ts",
    "floor: python3 -c pass": `${PY} -c pass`,
    "floor: bare UDP client": `deno run --allow-net bench/bare_client.ts udp ${udpPort}`,
    "floor: bare TCP client": `deno run --allow-net bench/bare_client.ts tcp ${sink.port}`,
    "bundled: udp_client.js":
      `deno run --allow-net --unstable-net ${dist}/udp_client.js --port ${udpPort}`,
    "bundled: tcp_client.js":
      `deno run --allow-net --unstable-net ${dist}/tcp_client.js --port ${sink.port}`,
    "lib/ as JavaScript: udp_client.js":
      `deno run --allow-net --unstable-net ${js}/udp_client.js --port ${udpPort}`,
    "lib/ as JavaScript: tcp_client.js":
      `deno run --allow-net --unstable-net ${js}/tcp_client.js --port ${sink.port}`,
  };
  const figures = await rounds(Object.keys(commands), async (name) => {
    const json = await Deno.makeTempFile({ suffix: ".json" });
    const { success } = await new Deno.Command("hyperfine", {
      env: { PYTHONUNBUFFERED: "" }, // see server()
      args: ["-N", "--warmup", "2", "--runs", `${runs}`, "--export-json", json, commands[name]],
      cwd: ROOT,
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!success) throw new Error(`hyperfine failed: ${commands[name]}`);
    const result = JSON.parse(Deno.readTextFileSync(json)).results[0];
    Deno.removeSync(json);
    return result.median * 1000;
  }, count);
  await stop(sink.child);
  udpSink.close();
  table(
    `6. Start-up: one-shot client from start to exit (hyperfine, ${count} rounds of ${runs} runs)`,
    'Client: none; hyperfine runs each program (the TCP clients talk to `tcp_server.ts -k`, the UDP clients to a socket that `bench.ts` holds). The bare clients (`bench/bare_client.ts`) make the same socket calls with none of lib/; the bundled ones are `deno task bundle`\'s files of the same two programs; "lib/ as JavaScript" are the same two programs and lib/ with their types stripped, one module per file as ours.',
    "ms",
    figures,
    false,
  );
  const w = "6. start-up";
  const empty = get(figures, "floor: deno run empty.ts");
  for (
    const [ours, py, bare, bundle, asJs] of [
      [
        "ours: udp_client.ts",
        "Python: workshop UDP client",
        "floor: bare UDP client",
        "bundled: udp_client.js",
        "lib/ as JavaScript: udp_client.js",
      ],
      [
        "ours: tcp_client.ts",
        "Python: workshop TCP client",
        "floor: bare TCP client",
        "bundled: tcp_client.js",
        "lib/ as JavaScript: tcp_client.js",
      ],
    ]
  ) {
    const ratio = get(figures, ours) / empty;
    const name = ours.slice(6);
    goal(w, `${name} ≤ 1.15× an empty Deno script (ours ÷ empty)`, ratio, ratio <= 1.15);
    goal(
      w,
      `(floor) ${bare.slice(7)}, the same socket calls alone ÷ empty`,
      get(figures, bare) / empty,
      true,
    );
    goal(
      w,
      `(report) ${name} bundled into one JavaScript file ÷ empty`,
      get(figures, bundle) / empty,
      true,
    );
    goal(
      w,
      `(report) ${name} with lib/ as JavaScript modules ÷ empty`,
      get(figures, asJs) / empty,
      true,
    );
    goal(
      w,
      `(report) ${name}, ms above an empty script`,
      get(figures, ours) - empty,
      true,
      " ms",
    );
    goal(
      w,
      `(report) ${name} ÷ the workshop's Python`,
      get(figures, ours) / get(figures, py),
      true,
    );
  }
  const floor = empty / get(figures, "floor: python3 -c pass");
  goal(w, "(report) runtime floor: empty Deno script ÷ python3 -c pass", floor, true);
}

/**
 * Writes `lessons` and every module of lib/ into `dir` as JavaScript: their types removed by
 * node:module's `stripTypeScriptTypes` (in "transform" mode, which also turns parameter
 * properties into code, and adds no source map), their imports of `.ts` files pointed at the
 * `.js` ones.
 */
function writeAsJavaScript(dir: string, lessons: string[]): void {
  Deno.mkdirSync(`${dir}/lib`, { recursive: true });
  const files = [...lessons];
  for (const entry of Deno.readDirSync(`${ROOT}/lib`)) {
    if (entry.isFile && entry.name.endsWith(".ts")) files.push(`lib/${entry.name}`);
  }
  for (const file of files) {
    const code = stripTypeScriptTypes(Deno.readTextFileSync(`${ROOT}/${file}`), {
      mode: "transform",
    })
      .replace(/(["']\.{1,2}\/[\w./]+)\.ts(["'])/g, "$1.js$2");
    Deno.writeTextFileSync(`${dir}/${file.replace(/\.ts$/, ".js")}`, code);
  }
}

// --- run -----------------------------------------------------------------------------------

async function version(cmd: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await new Deno.Command(cmd[0], { args: cmd.slice(1) }).output();
    return (new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr)).trim().split(
      "\n",
    )[0];
  } catch {
    return "not found";
  }
}

const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/model name\s*:\s*(.*)/)?.[1] ?? "?";
say(`# Benchmark results${QUICK ? " (quick run: tiny sizes, figures not meaningful)" : ""}`);
say();
say(`- Date: ${new Date().toISOString()}`);
say(
  `- Machine: ${navigator.hardwareConcurrency} cores, ${cpu}, ${
    (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(0)
  } GiB, Linux ${Deno.osRelease()}`,
);
say(
  `- Deno ${Deno.version.deno} (V8 ${Deno.version.v8}); ${await version([
    PY,
    "--version",
  ])}; ${await version(["nc", "-h"])}; ${await version([
    "hyperfine",
    "--version",
  ])}; ${await version(
    ["cc", "--version"],
  )}`,
);
say(
  `- Reproduce: \`deno task bench${
    QUICK ? ":quick" : ""
  }\` (${ROUNDS} rounds, peers interleaved round by round; figures are medians)`,
);

const workloads = [lineStream, requestReply, manyClients, udpBurst, memory, startUp];
try {
  await buildLoadgen();
  for (const [k, workload] of workloads.entries()) if (ONLY.includes(k + 1)) await workload();
} finally {
  Deno.removeSync(BUILD, { recursive: true });
}

say("\n## Goals\n");
say("| workload | goal | measured | met |");
say("| --- | --- | ---: | :---: |");
for (const g of goals) {
  const met = g.met ? "yes" : g.moonshot ? "no (moonshot)" : "**no**";
  say(`| ${g.workload} | ${g.goal} | ${g.value} | ${met} |`);
}

const file = QUICK || ONLY.length < 6 ? `${ROOT}bench/RESULTS.quick.md` : `${ROOT}bench/RESULTS.md`;
if (file.endsWith("RESULTS.md")) {
  // Keep the hand-written analysis that follows the figures, if there is one.
  let notes = "";
  try {
    const old = Deno.readTextFileSync(file);
    const at = old.indexOf("\n## Analysis");
    if (at !== -1) notes = old.slice(at);
  } catch { /* first run */ }
  Deno.writeTextFileSync(file, report.join("\n") + "\n" + notes);
} else {
  Deno.writeTextFileSync(file, report.join("\n") + "\n");
}
console.log(`\n(written to ${file.replace(ROOT, "")})`);
