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
 * absolute times. Needs /usr/bin/python3, nc, taskset and hyperfine.
 *
 * @module
 */
const QUICK = Deno.args.includes("--quick");
/** `--only 1,4`: run only these workloads (the RESULTS file is then not written). */
const ONLY = Deno.args.includes("--only")
  ? Deno.args[Deno.args.indexOf("--only") + 1].split(",").map(Number)
  : [1, 2, 3, 4, 5, 6];
const ROOT = new URL("..", import.meta.url).pathname;
const PY = "/usr/bin/python3";
const ROUNDS = 3;
const MiB = 1024 * 1024;

const SIZE = QUICK
  ? {
    stream: 8 * MiB,
    trips: 300,
    clients: 50,
    clientTrips: 5,
    burst: 5000,
    paced: 2000,
    idle: 100,
  }
  : {
    stream: 1024 * MiB,
    trips: 20_000,
    clients: 1000,
    clientTrips: 50,
    burst: 200_000,
    paced: 20_000,
    idle: 1000,
  };
const RATES = QUICK ? [10_000, 50_000] : [25_000, 50_000, 75_000, 100_000, 150_000, 200_000];

// --- processes ---------------------------------------------------------------

/** A free TCP or UDP port on loopback (free a moment ago). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** Starts a server with stdout to /dev/null (or to `file`). */
function server(cmd: string[], file?: string): Deno.ChildProcess {
  if (file) {
    return new Deno.Command("sh", {
      args: ["-c", `exec "$@" > ${file}`, "sh", ...cmd],
      cwd: ROOT,
      stdin: "null",
      stderr: "inherit",
    }).spawn();
  }
  return new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/** Runs a load command to the end and parses the JSON line it prints. */
async function load(cmd: string[]): Promise<Record<string, number>> {
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
const goals: { workload: string; goal: string; value: string; met: boolean }[] = [];
const say = (line = "") => {
  console.log(line);
  report.push(line);
};

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Prints a table: each peer's median and min-max, and the ratio of ours to it. */
function table(title: string, unit: string, figures: Figures, higherIsBetter: boolean) {
  say(`\n### ${title}\n`);
  say(`| peer | median (${unit}) | min–max | ours ÷ peer |`);
  say("| --- | ---: | ---: | ---: |");
  const ours = median([...figures.entries()].find(([name]) => name.startsWith("ours"))![1]);
  for (const [name, xs] of figures) {
    const m = median(xs);
    const ratio = higherIsBetter ? ours / m : m / ours;
    say(
      `| ${name} | ${fmt(m)} | ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))} | ${
        name.startsWith("ours") ? "—" : `${ratio.toFixed(2)}×`
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
  const servers: Record<string, (port: number) => string[]> = {
    "ours: tcp_server.ts": (p) => ["deno", "run", "--allow-net", "tcp_server.ts", "--port", `${p}`],
    "workshop Python": (p) => [PY, "bench/peers.py", "workshop-tcp-server", `${p}`],
    "careful Python": (p) => [PY, "bench/peers.py", "careful-tcp-server", `${p}`],
    "nc >/dev/null": (p) => ["nc", "-d", "-l", "127.0.0.1", `${p}`],
    "bare Deno loop": (p) => ["deno", "run", "--allow-net", "bench/bare.ts", "line-sink", `${p}`],
  };
  const figures = await rounds(Object.keys(servers), async (peer) => {
    const port = freePort();
    const child = server(servers[peer](port));
    const { bytes, seconds } = await load([
      PY,
      "bench/peers.py",
      "send-lines",
      `${port}`,
      `${SIZE.stream}`,
    ]);
    await child.status;
    return bytes / seconds / 1e6;
  });
  table(
    `1. Line stream: ${SIZE.stream / MiB} MiB of 100-byte lines, stdout to /dev/null`,
    "MB/s",
    figures,
    true,
  );
  const ours = get(figures, "ours: tcp_server.ts");
  const w = "1. line stream";
  atLeast(w, "≥ 1.5× the workshop-style Python", ours / get(figures, "workshop Python"), 1.5);
  atLeast(w, "≥ 1.0× the careful Python", ours / get(figures, "careful Python"), 1.0);
  atLeast(w, "≥ 0.3× raw nc", ours / get(figures, "nc >/dev/null"), 0.3);
}

// --- 2. request-reply ----------------------------------------------------------

async function requestReply() {
  const servers: Record<string, (port: number) => string[]> = {
    "ours: ex1_tcp_server.ts": (
      p,
    ) => ["deno", "run", "--allow-net", "exercises/ex1_tcp_server.ts", "--port", `${p}`],
    "Python asyncio": (p) => [PY, "bench/peers.py", "asyncio-ex1-server", `${p}`],
    "workshop Python (blocking)": (p) => [PY, "bench/peers.py", "workshop-ex1-server", `${p}`],
    "bare Deno loop": (p) => ["deno", "run", "--allow-net", "bench/bare.ts", "echo", `${p}`],
    "bare + UTF-8 text": (
      p,
    ) => ["deno", "run", "--allow-net", "bench/bare.ts", "echo-text", `${p}`],
    "bare + text + LineReader": (
      p,
    ) => ["deno", "run", "--allow-net", "bench/bare.ts", "echo-lines", `${p}`],
  };
  for (const pinned of [false, true]) {
    const pin = pinned ? ["taskset", "-c", "0"] : [];
    const figures = await rounds(Object.keys(servers), async (peer) => {
      const port = freePort();
      const child = server([...pin, ...servers[peer](port)]);
      const r = await load([
        ...pin,
        PY,
        "bench/peers.py",
        "round-trips",
        `${port}`,
        `${SIZE.trips}`,
      ]);
      await stop(child);
      return r.round_trips / r.seconds;
    });
    const how = pinned ? "server and client pinned to one core (taskset -c 0)" : "unpinned";
    table(
      `2. Request-reply: ${SIZE.trips} sequential round trips, one client, ${how}`,
      "round trips/s",
      figures,
      true,
    );
    const ours = get(figures, "ours: ex1_tcp_server.ts");
    const w = `2. request-reply (${pinned ? "pinned" : "unpinned"})`;
    atLeast(w, "≥ 1.3× Python asyncio", ours / get(figures, "Python asyncio"), 1.3);
    atLeast(w, "≥ 0.9× the bare Deno floor", ours / get(figures, "bare Deno loop"), 0.9);
    goal(
      w,
      "(report) ratio to the workshop's blocking Python",
      ours / get(figures, "workshop Python (blocking)"),
      true,
    );
  }
}

// --- 3. many clients -------------------------------------------------------------

async function manyClients() {
  const servers: Record<string, (port: number) => string[]> = {
    "ours: ex1_tcp_server.ts -k": (
      p,
    ) => ["deno", "run", "--allow-net", "exercises/ex1_tcp_server.ts", "-k", "--port", `${p}`],
    "Python asyncio": (p) => [PY, "bench/peers.py", "asyncio-ex1-server", `${p}`],
    "bare Deno loop": (p) => ["deno", "run", "--allow-net", "bench/bare.ts", "echo", `${p}`, "-k"],
  };
  const errors = new Map<string, number>();
  const p99s: Figures = new Map(Object.keys(servers).map((p) => [p, []]));
  const times = await rounds(Object.keys(servers), async (peer) => {
    const port = freePort();
    const child = server(servers[peer](port));
    const r = await load([
      PY,
      "bench/peers.py",
      "many-clients",
      `${port}`,
      `${SIZE.clients}`,
      `${SIZE.clientTrips}`,
    ]);
    await stop(child);
    errors.set(peer, (errors.get(peer) ?? 0) + r.errors);
    p99s.get(peer)!.push(r.p99 * 1000);
    return r.seconds;
  });
  const title = `3. Many clients: ${SIZE.clients} clients × ${SIZE.clientTrips} round trips`;
  table(`${title}, total time`, "s", times, false);
  table(`${title}, p99 latency after the first round trip`, "ms", p99s, false);
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
    "p99 ≤ 2× asyncio's (ours ÷ asyncio)",
    get(p99s, ours) / get(p99s, "Python asyncio"),
    get(p99s, ours) <= 2 * get(p99s, "Python asyncio"),
  );
}

// --- 4. UDP burst ------------------------------------------------------------------

const udpServers: Record<string, (port: number) => string[]> = {
  "ours: udp_server.ts": (
    p,
  ) => ["deno", "run", "--allow-net", "udp_server.ts", "--host", "127.0.0.1", "--port", `${p}`],
  "workshop Python (print)": (p) => [PY, "bench/peers.py", "workshop-udp-server", `${p}`],
  "bare Deno loop": (p) => ["deno", "run", "--allow-net", "bench/bare.ts", "udp", `${p}`],
};

/** Sends `count` datagrams (paced at `rate`/s, or as fast as possible) and counts what the server printed. */
async function udpRun(peer: string, count: number, rate = 0): Promise<number> {
  const port = freePort();
  const file = await Deno.makeTempFile({ dir: "/dev/shm", prefix: "socket-kit-bench-" });
  const child = server(udpServers[peer](port), file);
  await waitForFile(file, `port ${port}`);
  // Warm up first (Deno compiles its hot code as it runs): 2000 datagrams of "w" at 10k/s.
  await load([PY, "bench/peers.py", "udp-burst", `${port}`, "2000", "10000", "w"]);
  await sleep(200);
  await load([PY, "bench/peers.py", "udp-burst", `${port}`, `${count}`, `${rate}`]);
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
    `4. UDP burst: ${SIZE.burst} datagrams of 64 bytes, as fast as one Python sender goes`,
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
  const servers: Record<string, (port: number) => string[]> = {
    "ours: ex1_tcp_server.ts -k": (
      p,
    ) => ["deno", "run", "--allow-net", "exercises/ex1_tcp_server.ts", "-k", "--port", `${p}`],
    "Python asyncio": (p) => [PY, "bench/peers.py", "asyncio-ex1-server", `${p}`],
    "bare Deno loop": (p) => ["deno", "run", "--allow-net", "bench/bare.ts", "echo", `${p}`, "-k"],
  };
  const idle: Figures = new Map(Object.keys(servers).map((p) => [p, []]));
  const figures = await rounds(Object.keys(servers), async (peer) => {
    const port = freePort();
    const child = server(servers[peer](port));
    const clients = new Deno.Command(PY, {
      args: ["bench/peers.py", "idle-clients", `${port}`, `${SIZE.idle}`],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const reader = clients.stdout.pipeThrough(new TextDecoderStream()).getReader();
    await reader.read(); // "open": every connection is up
    await sleep(200); // let the server take them all in
    const bytes = rss(child.pid);
    await clients.stdin.close();
    await reader.cancel();
    await clients.status;
    await stop(child);
    idle.get(peer)!.push(bytes / SIZE.idle / 1024);
    return bytes / MiB;
  });
  table(`5. Memory: RSS with ${SIZE.idle} idle connections`, "MiB", figures, false);
  const ours = get(figures, "ours: ex1_tcp_server.ts -k");
  goal("5. memory", `RSS ≤ 64 MiB with ${SIZE.idle} idle connections`, ours, ours <= 64, " MiB");
}

// --- 6. start-up ------------------------------------------------------------------------

async function startUp() {
  const runs = QUICK ? 3 : 15;
  const sink = freePort();
  const sinkServer = server([
    "deno",
    "run",
    "--allow-net",
    "tcp_server.ts",
    "-k",
    "--port",
    `${sink}`,
  ]);
  await sleep(1000); // the TCP client needs a server; give it time to listen
  const udpPort = freePort();
  const commands: Record<string, string> = {
    "ours: udp_client.ts": `deno run --allow-net udp_client.ts --port ${udpPort}`,
    "Python: workshop UDP client": `${PY} bench/workshop_udp_client.py ${udpPort}`,
    "ours: tcp_client.ts": `deno run --allow-net tcp_client.ts --port ${sink}`,
    "Python: workshop TCP client": `${PY} bench/workshop_tcp_client.py ${sink}`,
    "floor: deno run empty.ts": "deno run bench/empty.ts",
    "floor: python3 -c pass": `${PY} -c pass`,
  };
  const figures = await rounds(Object.keys(commands), async (name) => {
    const json = await Deno.makeTempFile({ suffix: ".json" });
    const { success } = await new Deno.Command("hyperfine", {
      args: ["-N", "--warmup", "2", "--runs", `${runs}`, "--export-json", json, commands[name]],
      cwd: ROOT,
      stdout: "null",
      stderr: "inherit",
    }).output();
    if (!success) throw new Error(`hyperfine failed: ${commands[name]}`);
    const result = JSON.parse(Deno.readTextFileSync(json)).results[0];
    Deno.removeSync(json);
    return result.median * 1000;
  });
  await stop(sinkServer);
  table(
    `6. Start-up: one-shot client from start to exit (hyperfine, ${runs} runs a round)`,
    "ms",
    figures,
    false,
  );
  const w = "6. start-up";
  for (
    const [ours, py] of [["ours: udp_client.ts", "Python: workshop UDP client"], [
      "ours: tcp_client.ts",
      "Python: workshop TCP client",
    ]]
  ) {
    const ratio = get(figures, ours) / get(figures, py);
    goal(w, `${ours.slice(6)} ≤ 1.2× Debian python3 (ours ÷ Python)`, ratio, ratio <= 1.2);
  }
  const floor = get(figures, "floor: deno run empty.ts") / get(figures, "floor: python3 -c pass");
  goal(w, "(report) runtime floor: empty Deno script ÷ python3 -c pass", floor, true);
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
  ])}; ${await version(["nc", "-h"])}; ${await version(["hyperfine", "--version"])}`,
);
say(
  `- Reproduce: \`deno task bench${
    QUICK ? ":quick" : ""
  }\` (${ROUNDS} rounds, peers interleaved round by round; figures are medians)`,
);

const workloads = [lineStream, requestReply, manyClients, udpBurst, memory, startUp];
for (const [k, workload] of workloads.entries()) if (ONLY.includes(k + 1)) await workload();

say("\n## Goals\n");
say("| workload | goal | measured | met |");
say("| --- | --- | ---: | :---: |");
for (const g of goals) {
  say(`| ${g.workload} | ${g.goal} | ${g.value} | ${g.met ? "yes" : "**no**"} |`);
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
