import assert from "node:assert/strict";
/**
 * trace_test.ts -- `--trace` (lib/trace.ts): what each program's sockets do,
 * on stderr, while stdout stays the course's.
 *
 * Each program's trace of the workshop's exchange is compared with its
 * transcript, once times and ports are masked. No test asserts a time or
 * sleeps: each waits for a line, on stdout or in the trace, with a guard.
 *
 * @module
 */
import { dump, octets } from "../../lib/trace.ts";
import {
  closedPort,
  linesOf,
  program,
  REPLY,
  ROOT,
  Running,
  runProgram,
  startServer,
  testWith,
  udpSocket,
  writeAll,
} from "../helpers.ts";
import { testTwoHosts } from "../netns.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** How long a test waits for what it expects before it fails (a guard, not a timing). */
const GUARD_MS = 30_000;

type Outcome = { code: number; stdout: string; stderr: string };

/** `--trace`, or nothing. */
const traceFlag = (trace: boolean) => trace ? ["--trace"] : [];

/**
 * The trace's lines with what changes from run to run masked: the time of
 * each line (`[T]`), durations (`N ms`), and the ports, each named by order of
 * appearance (`127.0.0.1:PORT1`) so that the transcript still says which is which.
 */
function masked(stderr: string): string[] {
  const names = new Map<string, string>();
  return linesOf(stderr).map((line) =>
    line
      .replace(/^\[ *\d+,\d ms\]/, "[T]")
      .replace(/\b\d+,\d ms\b/g, "N ms")
      .replace(/ en \d+,\d s : /g, " en N s : ")
      .replace(/(\d{1,3}(?:\.\d{1,3}){3}):(\d+)\b/g, (all, ip: string, port: string) => {
        if (port === "0") return all;
        if (!names.has(port)) names.set(port, `PORT${names.size + 1}`);
        return `${ip}:${names.get(port)}`;
      })
  );
}

/** Fails if `promise` has not settled within the guard. */
async function guarded<T>(promise: Promise<T>, what: string, ms = GUARD_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads from `conn` until `done` says the text so far is complete, or the stream ends. */
async function readUntil(conn: Deno.Conn, done: (text: string) => boolean): Promise<string> {
  const buffer = new Uint8Array(4096);
  const bytes: number[] = [];
  while (!done(decoder.decode(new Uint8Array(bytes)))) {
    const n = await guarded(conn.read(buffer), "bytes from the program");
    if (n === null) break;
    bytes.push(...buffer.subarray(0, n));
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** `127.0.0.1:port` as a UDP destination. */
const local = (port: number): Deno.NetAddr => ({ transport: "udp", hostname: "127.0.0.1", port });

/** The bytes of each `read` the trace shows (short reads only: their bytes are all shown). */
function tracedReads(stderr: string): Uint8Array[] {
  return [...stderr.matchAll(/read → ([\d ]+) octets? : ([0-9a-f]{2}(?: [0-9a-f]{2})*) {2}"/g)]
    .map(([, count, hex]) => {
      const bytes = new Uint8Array(hex.split(" ").map((h) => parseInt(h, 16)));
      assert.equal(bytes.length, Number(count.replaceAll(" ", "")), "every byte of a short read");
      return bytes;
    });
}

/** The bytes of `reads`, end to end, as text. */
const joined = (reads: Uint8Array[]) => reads.map((r) => decoder.decode(r)).join("");

/** Waits until the reads that `program` traced hold `text`, each new read line in turn. */
async function waitForReads(traced: Running, text: string): Promise<void> {
  while (joined(tracedReads(traced.stderr)) !== text) {
    const next = traced.stderr.split("] read → ").length; // one more read line than now
    await traced.waitFor(new RegExp(`(?:\\] read → [^\\n]*\\n[^]*?){${next}}`), "stderr");
  }
}

// ---------------------------------------------------------------------------
// The workshop's exchange with each program

/** Each program's exchange, as the course plays it, and the trace it must give. */
const EXCHANGES: {
  file: string;
  tools: string[];
  run: (trace: boolean) => Promise<Outcome>;
  trace: string[];
}[] = [
  {
    file: "udp_client.ts",
    tools: [],
    run: async (trace) => {
      const { socket, port } = udpSocket();
      try {
        const outcome = await runProgram("udp_client.ts", [
          "--port",
          String(port),
          ...traceFlag(trace),
        ]);
        const [data] = await guarded(socket.receive(), "the datagram");
        assert.equal(decoder.decode(data), "Salut !\n");
        return outcome;
      } finally {
        socket.close();
      }
    },
    trace: [
      "[T] socket UDP + bind 0.0.0.0:0 : prête, sur 0.0.0.0:PORT1 (port 0 : le système en a choisi un libre)",
      '[T] send → 8 octets vers 127.0.0.1:PORT2 : 53 61 6c 75 74 20 21 0a  "Salut !\\n"',
      "[T] close",
    ],
  },
  {
    file: "tcp_client.ts",
    tools: [],
    run: async (trace) => {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      await using client = program("tcp_client.ts", [
        "--port",
        String(listener.addr.port),
        ...traceFlag(trace),
      ]);
      const conn = await guarded(listener.accept(), "the client");
      // The client half-closes after its message: read to the end, then answer.
      assert.equal(await readUntil(conn, () => false), "abcdefg!\n");
      await writeAll(conn, encoder.encode("Bien reçu\n"));
      conn.close();
      return await client.finished();
    },
    trace: [
      "[T] socket TCP + connect 127.0.0.1:PORT1 → connectée en N ms (poignée de main : SYN, SYN-ACK, ACK), depuis 127.0.0.1:PORT2",
      '[T] write → 9 octets : 61 62 63 64 65 66 67 21 0a  "abcdefg!\\n"',
      "[T] closeWrite → FIN envoyé : plus rien à écrire, mais on lit encore",
      '[T] read → 11 octets : 42 69 65 6e 20 72 65 c3 a7 75 0a  "Bien reçu\\n"',
      "[T] read → 0 octet : le serveur a fermé sa moitié de la connexion (FIN)",
      "[T] close",
    ],
  },
  {
    file: "udp_server.ts",
    tools: [],
    run: async (trace) => {
      const { server, port } = await startServer("udp_server.ts", traceFlag(trace));
      await using _ = server;
      const { socket } = udpSocket();
      try {
        await socket.send(encoder.encode("Salut !\n"), local(port));
        await server.waitFor("Message reçu: Salut !\n");
      } finally {
        socket.close();
      }
      server.kill("SIGINT");
      return await server.finished();
    },
    trace: [
      "[T] socket UDP + bind 0.0.0.0:0 : prête, sur 0.0.0.0:PORT1 (port 0 : le système en a choisi un libre)",
      '[T] receive → 8 octets de 127.0.0.1:PORT2 : 53 61 6c 75 74 20 21 0a  "Salut !\\n"',
      "[T] close",
    ],
  },
  {
    file: "tcp_server.ts",
    tools: ["nc"],
    run: async (trace) => {
      const { server, port } = await startServer("tcp_server.ts", traceFlag(trace));
      await using _ = server;
      await using nc = new Running("nc", ["-N", "127.0.0.1", String(port)], { stdin: "piped" });
      await nc.write("abcdefg!\n");
      await nc.closeStdin(); // nc -N: the end of its input sends a FIN
      return await server.finished();
    },
    trace: [
      "[T] socket TCP + bind 0.0.0.0:0 + listen : prête, sur 0.0.0.0:PORT1 (port 0 : le système en a choisi un libre)",
      "[T] accept → nouvelle socket pour 127.0.0.1:PORT2 (la socket d'écoute reste ouverte)",
      "[T] close (socket d'écoute) : plus d'accept, les clients suivants sont refusés",
      '[T] read → 9 octets : 61 62 63 64 65 66 67 21 0a  "abcdefg!\\n"',
      "[T] read → 0 octet : le client a fermé sa moitié de la connexion (FIN)",
      "[T] close (FIN envoyé au client)",
    ],
  },
  {
    file: "exercises/ex1_tcp_server.ts",
    tools: [],
    run: async (trace) => {
      const { server, port } = await startServer("exercises/ex1_tcp_server.ts", traceFlag(trace));
      await using _ = server;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        await writeAll(conn, encoder.encode("bonjour\n"));
        const reply = await readUntil(conn, (text) => text.endsWith("\n"));
        assert.equal(reply, `${REPLY}bonjour\n`);
        await writeAll(conn, encoder.encode("quit\n"));
        return await server.finished();
      } finally {
        conn.close();
      }
    },
    trace: [
      "[T] socket TCP + bind 0.0.0.0:0 + listen : prête, sur 0.0.0.0:PORT1 (port 0 : le système en a choisi un libre)",
      "[T] accept → nouvelle socket pour 127.0.0.1:PORT2 (la socket d'écoute reste ouverte)",
      "[T] close (socket d'écoute) : plus d'accept, les clients suivants sont refusés",
      '[T] read → 8 octets : 62 6f 6e 6a 6f 75 72 0a  "bonjour\\n"',
      "[T] write → 54 octets : 42 6f 6e 6a 6f 75 72 20 63 6c 69 65 6e 74 2c 20 6a 27 61 69 20 62 69 65 6e 20 72 65 c3 a7 75 20  " +
      '"Bonjour client, j\'ai bien reçu " … (+22 octets)',
      '[T] read → 5 octets : 71 75 69 74 0a  "quit\\n"',
      "[T] close (FIN envoyé au client)",
    ],
  },
  {
    file: "exercises/ex1_tcp_client.ts",
    tools: [],
    run: async (trace) => {
      using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      await using client = program(
        "exercises/ex1_tcp_client.ts",
        ["--port", String(listener.addr.port), ...traceFlag(trace)],
        { stdin: "piped" },
      );
      await client.write("bonjour\nquit\n");
      const conn = await guarded(listener.accept(), "the client");
      try {
        assert.equal(await readUntil(conn, (text) => text.endsWith("\n")), "bonjour\n");
        await writeAll(conn, encoder.encode(`${REPLY}bonjour\n`));
        assert.equal(await readUntil(conn, () => false), "quit\n");
        return await client.finished();
      } finally {
        conn.close();
      }
    },
    trace: [
      "[T] socket TCP + connect 127.0.0.1:PORT1 → connectée en N ms (poignée de main : SYN, SYN-ACK, ACK), depuis 127.0.0.1:PORT2",
      '[T] write → 8 octets : 62 6f 6e 6a 6f 75 72 0a  "bonjour\\n"',
      "[T] read → 54 octets : 42 6f 6e 6a 6f 75 72 20 63 6c 69 65 6e 74 2c 20 6a 27 61 69 20 62 69 65 6e 20 72 65 c3 a7 75 20  " +
      '"Bonjour client, j\'ai bien reçu " … (+22 octets)',
      '[T] write → 5 octets : 71 75 69 74 0a  "quit\\n"',
      "[T] close (FIN envoyé au serveur)",
    ],
  },
  {
    file: "exercises/ex2_udp_server.ts",
    tools: [],
    run: async (trace) => {
      const { server, port } = await startServer("exercises/ex2_udp_server.ts", traceFlag(trace));
      await using _ = server;
      const { socket } = udpSocket();
      try {
        await socket.send(encoder.encode("bonjour\n"), local(port));
        const [reply] = await guarded(socket.receive(), "the reply");
        assert.equal(decoder.decode(reply), `${REPLY}bonjour\n`);
        await socket.send(encoder.encode("quit\n"), local(port));
        await server.waitFor("Reçu : quit\n");
      } finally {
        socket.close();
      }
      server.kill("SIGINT");
      return await server.finished();
    },
    trace: [
      "[T] socket UDP + bind 0.0.0.0:0 : prête, sur 0.0.0.0:PORT1 (port 0 : le système en a choisi un libre)",
      '[T] receive → 8 octets de 127.0.0.1:PORT2 : 62 6f 6e 6a 6f 75 72 0a  "bonjour\\n"',
      "[T] send → 54 octets vers 127.0.0.1:PORT2 : 42 6f 6e 6a 6f 75 72 20 63 6c 69 65 6e 74 2c 20 6a 27 61 69 20 62 69 65 6e 20 72 65 c3 a7 75 20  " +
      '"Bonjour client, j\'ai bien reçu " … (+22 octets)',
      '[T] receive → 5 octets de 127.0.0.1:PORT2 : 71 75 69 74 0a  "quit\\n"',
      "[T] close",
    ],
  },
  {
    file: "exercises/ex2_udp_client.ts",
    tools: [],
    run: async (trace) => {
      const { socket, port } = udpSocket();
      try {
        // A long time limit: the reply must never be late, however busy the machine.
        await using client = program(
          "exercises/ex2_udp_client.ts",
          ["--port", String(port), "--timeout", "60", ...traceFlag(trace)],
          { stdin: "piped" },
        );
        await client.write("bonjour\nquit\n");
        const [request, from] = await guarded(socket.receive(), "the request");
        assert.equal(decoder.decode(request), "bonjour\n");
        await socket.send(encoder.encode("Salut client\n"), from);
        const [quit] = await guarded(socket.receive(), "quit");
        assert.equal(decoder.decode(quit), "quit\n");
        return await client.finished();
      } finally {
        socket.close();
      }
    },
    trace: [
      "[T] socket UDP + bind 0.0.0.0:0 : prête, sur 0.0.0.0:PORT1 (port 0 : le système en a choisi un libre)",
      '[T] send → 8 octets vers 127.0.0.1:PORT2 : 62 6f 6e 6a 6f 75 72 0a  "bonjour\\n"',
      '[T] receive → 13 octets de 127.0.0.1:PORT2 : 53 61 6c 75 74 20 63 6c 69 65 6e 74 0a  "Salut client\\n"',
      '[T] send → 5 octets vers 127.0.0.1:PORT2 : 71 75 69 74 0a  "quit\\n"',
      "[T] close",
    ],
  },
];

for (const { file, tools, run, trace } of EXCHANGES) {
  testWith(
    tools,
    `${file} --trace shows the workshop's exchange call by call on stderr`,
    async () => {
      const traced = await run(true);
      assert.equal(traced.code, 0, traced.stderr);
      assert.deepEqual(masked(traced.stderr), trace);
      // Stdout is the course's, the same as without the trace.
      const plain = await run(false);
      assert.equal(plain.code, 0);
      const shown = (stdout: string) => masked(stdout.replace(/ port \d+\.\.\./, " port PORT..."));
      assert.deepEqual(shown(traced.stdout), shown(plain.stdout));
    },
  );

  testWith(
    tools,
    `${file} without --trace prints nothing on stderr in the workshop's exchange`,
    async () => {
      const { code, stdout, stderr } = await run(false);
      assert.equal(code, 0);
      assert.equal(stderr, "");
      assert.notEqual(stdout, "");
    },
  );
}

// ---------------------------------------------------------------------------
// TCP

Deno.test("tcp_server.ts --trace shows exactly the reads the server got, merged or split", async () => {
  const { server, port } = await startServer("tcp_server.ts", ["--trace"]);
  await using _ = server;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  // Three writes, each sent once the trace shows that the server has read all
  // the bytes before it. "trois" is cut before its newline: however long the
  // pause, the quiet time (100 ms) cannot make "tro" a message of its own.
  const writes = ["un\ndeux\n", "trois", "\n"];
  let sent = "";
  try {
    for (const text of writes) {
      await writeAll(conn, encoder.encode(text));
      sent += text;
      await waitForReads(server, sent);
    }
  } finally {
    conn.close();
  }
  const { code, stdout, stderr } = await server.finished();
  assert.equal(code, 0);
  const reads = tracedReads(stderr);
  // What the trace shows is what was sent, no byte twice or missing...
  assert.equal(joined(reads), "un\ndeux\ntrois\n");
  // ...in reads that never hold bytes of two writes: the next write was sent after them.
  const ends = reads.map((_, i) => joined(reads.slice(0, i + 1)).length);
  for (const boundary of [8, 13]) assert.ok(ends.includes(boundary), `a read ends at ${boundary}`);
  assert.ok(reads.every((r) => r.length > 0));
  assert.ok(reads.length >= writes.length, `${reads.length} reads`);
  assert.equal(decoder.decode(reads.at(-1)), "\n");
  // The count of reads is that of the read lines; then the FIN and the close.
  assert.equal(linesOf(stderr).filter((l) => l.includes("] read → ")).length, reads.length + 1);
  assert.match(linesOf(stderr).at(-2)!, /read → 0 octet : le client a fermé .* \(FIN\)$/);
  assert.deepEqual(linesOf(stdout).slice(2), [
    "Reçu : un",
    "Reçu : deux",
    "Reçu : trois",
    "Déconnecté",
  ]);
});

Deno.test("tcp_server.ts --trace on a 200 MB stream keeps stderr short and loses no byte of stdout", async () => {
  const LINE = 100; // bytes per line, its "\n" included
  const COUNT = (200 << 20) / LINE;
  const lineOf = (i: number) => `${String(i).padStart(10, "0")} ${"x".repeat(LINE - 12)}`;
  const child = new Deno.Command("deno", {
    args: ["run", "--allow-net", "tcp_server.ts", "--port", "0", "--trace"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let stderr = "";
  const errors = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (text) => void (stderr += text) }),
  );
  // Stdout is checked line by line as it comes, without keeping it.
  let checked = 0;
  let rest = "";
  const head: string[] = [];
  let ready: (port: number) => void;
  const portPrinted = new Promise<number>((resolve) => ready = resolve);
  const check = (line: string) => {
    if (head.length < 2) {
      head.push(line);
      const port = line.match(/ port (\d+)\.\.\.$/);
      if (port) ready(Number(port[1]));
      return;
    }
    if (checked === COUNT) {
      assert.equal(line, "Déconnecté");
      checked++;
      return;
    }
    if (line !== `Reçu : ${lineOf(checked)}`) {
      throw new Error(`stdout line ${checked + 3}: ${JSON.stringify(line.slice(0, 80))}`);
    }
    checked++;
  };
  const output = child.stdout.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(text) {
        const lines = (rest + text).split("\n");
        rest = lines.pop()!;
        for (const line of lines) check(line);
      },
    }),
  );
  try {
    const port = await guarded(portPrinted, "the ready line");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const batch = 1000;
    for (let i = 0; i < COUNT; i += batch) {
      const lines = Array.from({ length: Math.min(batch, COUNT - i) }, (_, k) => lineOf(i + k));
      await writeAll(conn, encoder.encode(lines.join("\n") + "\n"));
    }
    conn.close();
    const status = await guarded(child.status, "the server's exit (200 MB)", 240_000);
    await Promise.all([output, errors]);
    assert.equal(status.code, 0, stderr);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* ended already */ }
    await child.status;
  }
  assert.equal(rest, "");
  assert.equal(checked, COUNT + 1, "every line, then Déconnecté");
  assert.ok(stderr.length < 64 * 1024, `${stderr.length} characters on stderr`);
  const lines = linesOf(stderr);
  assert.ok(lines.some((l) => /… de plus en \d+,\d s : [\d ]+ read \([\d ]+ octets\)$/.test(l)));
  assert.match(lines.at(-2)!, /read → 0 octet : le client a fermé sa moitié de la connexion/);
  assert.match(lines.at(-1)!, /\] close/);
  // The summed-up reads and the reads shown account for every byte.
  let total = 0;
  for (const l of lines) {
    const shown = l.match(/read → ([\d ]+) octets? :/);
    if (shown) total += Number(shown[1].replaceAll(" ", ""));
    const summed = l.match(/ ([\d ]+) read \(([\d ]+) octets?\)/);
    if (summed) total += Number(summed[2].replaceAll(" ", ""));
  }
  assert.equal(total, COUNT * LINE);
});

Deno.test("tcp_server.ts -k --trace puts the client's address before each of its lines", async () => {
  const { server, port } = await startServer("tcp_server.ts", ["-k", "--trace"]);
  await using _ = server;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const me = `127.0.0.1:${conn.localAddr.port}`;
  await writeAll(conn, encoder.encode("salut\n"));
  await server.waitFor(`[${me}] read → 6 octets`, "stderr");
  conn.close();
  await server.waitFor(`[${me}] close`, "stderr");
  server.kill("SIGINT");
  const { code, stderr } = await server.finished();
  assert.equal(code, 0);
  assert.deepEqual(masked(stderr).slice(1), [
    "[T] accept → nouvelle socket pour 127.0.0.1:PORT2 (la socket d'écoute reste ouverte)",
    '[T] [127.0.0.1:PORT2] read → 6 octets : 73 61 6c 75 74 0a  "salut\\n"',
    "[T] [127.0.0.1:PORT2] read → 0 octet : le client a fermé sa moitié de la connexion (FIN)",
    "[T] [127.0.0.1:PORT2] close (FIN envoyé au client)",
    "[T] close (socket d'écoute) : plus d'accept, les clients suivants sont refusés",
  ]);
});

Deno.test("tcp_client.ts --trace shows a refused connection", async () => {
  const { holder, port } = await closedPort("tcp"); // bound, not listening: refused at once
  await using _holder = holder;
  const { code, stderr } = await runProgram("tcp_client.ts", ["--port", String(port), "--trace"]);
  assert.equal(code, 1);
  assert.deepEqual(masked(stderr), [
    "[T] socket TCP + connect 127.0.0.1:PORT1 → refusée en N ms : personne n'écoute sur ce port (le système a répondu RST)",
    "Erreur: Serveur indisponible",
  ]);
});

testWith(
  ["python3"],
  "ex1_tcp_client.ts --trace shows a connection that got no answer before --timeout",
  async () => {
    // A listener whose queue (backlog 0) one connection fills: the system drops
    // every SYN after it without a word, as a firewall that drops them would.
    await using full = new Running("python3", [
      "-c",
      "import socket, sys\n" +
      "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)\n" +
      "filler = socket.create_connection(s.getsockname())\n" +
      "print('port', s.getsockname()[1], flush=True)\n" +
      "sys.stdin.read()",
    ], { stdin: "piped" });
    const [, port] = await full.waitFor(/port (\d+)/);
    const { code, stderr } = await runProgram(
      "exercises/ex1_tcp_client.ts",
      ["--port", port, "--timeout", "0.5", "--trace"],
    );
    assert.equal(code, 1);
    assert.deepEqual(masked(stderr), [
      "[T] socket TCP + connect 127.0.0.1:PORT1 → abandon après N ms : aucune réponse, même pas un refus (--timeout)",
      "Erreur: pas de réponse de 127.0.0.1:PORT1 après 0,5 s (un pare-feu bloque-t-il le port ?)",
    ]);
  },
);

Deno.test("--trace shows partial writes as such, and the write that sends the rest", async () => {
  // A connection that takes 3 bytes per write, as a full send buffer does: no real
  // peer fills its buffer on cue (loopback buffers hold megabytes).
  const { code, stdout, stderr } = await runProgram("tests/fixtures/partial_writes.ts");
  assert.equal(code, 0, stderr);
  assert.equal(stdout, "8\n");
  assert.deepEqual(masked(stderr).slice(1), [
    "[T] write de 8 octets → 3 octets seulement (écriture partielle : le tampon d'envoi est plein, " +
    'le reste attend) : 61 62 63  "abc"',
    "[T] write de 5 octets → 3 octets seulement (écriture partielle : le tampon d'envoi est plein, " +
    'le reste attend) : 64 65 66  "def"',
    '[T] write → 2 octets : 67 68  "gh"',
    "[T] close (FIN envoyé au serveur)",
  ]);
});

// ---------------------------------------------------------------------------
// UDP

Deno.test("udp_server.ts --trace shows a datagram cut at --buffer-size", async () => {
  const { server, port } = await startServer("udp_server.ts", ["--buffer-size", "4", "--trace"]);
  await using _ = server;
  const { socket } = udpSocket();
  try {
    await socket.send(encoder.encode("abcdefgh"), local(port));
    await server.waitFor("(coupé : datagramme de plus de 4 octets)");
  } finally {
    socket.close();
  }
  server.kill("SIGINT");
  const { stderr } = await server.finished();
  assert.equal(
    masked(stderr)[1],
    "[T] receive → plus de 4 octets de 127.0.0.1:PORT2 : datagramme coupé à --buffer-size 4, " +
      'la suite est perdue : 61 62 63 64  "abcd"',
  );
});

Deno.test("ex2_udp_client.ts --trace shows a stranger's datagram ignored and a late reply thrown away", async () => {
  const { socket: server, port } = udpSocket();
  const { socket: stranger } = udpSocket();
  try {
    await using client = program(
      "exercises/ex2_udp_client.ts",
      ["--port", String(port), "--timeout", "2", "--trace"],
      { stdin: "piped" },
    );
    await client.write("a\n");
    const [, from] = await guarded(server.receive(), "a");
    await stranger.send(encoder.encode("intrus\n"), from);
    await client.waitFor("Pas de réponse");
    // The reply comes after the time limit: the next line must not take it for its own.
    await server.send(encoder.encode("trop tard\n"), from);
    await client.waitFor(/receive → 10 octets/, "stderr");
    await client.write("quit\n");
    await guarded(server.receive(), "quit");
    const { code, stdout, stderr } = await client.finished();
    assert.equal(code, 0);
    assert.equal(
      stdout,
      "Pas de réponse du serveur après 2 s (UDP ne garantit pas la livraison)\nFin du client UDP\n",
    );
    assert.deepEqual(masked(stderr).slice(1), [
      '[T] send → 2 octets vers 127.0.0.1:PORT2 : 61 0a  "a\\n"',
      '[T] receive → 7 octets de 127.0.0.1:PORT3 : 69 6e 74 72 75 73 0a  "intrus\\n"',
      "[T] datagramme de 127.0.0.1:PORT3 ignoré : il ne vient pas de 127.0.0.1:PORT2",
      "[T] receive → rien avant l'heure limite : la demande ou sa réponse s'est perdue " +
      "(UDP ne dit pas laquelle) ; une réponse plus tardive sera jetée",
      '[T] receive → 10 octets de 127.0.0.1:PORT2 : 74 72 6f 70 20 74 61 72 64 0a  "trop tard\\n"',
      "[T] datagramme de 127.0.0.1:PORT2 arrivé après l'heure limite : jeté",
      '[T] send → 5 octets vers 127.0.0.1:PORT2 : 71 75 69 74 0a  "quit\\n"',
      "[T] close",
    ]);
  } finally {
    server.close();
    stranger.close();
  }
});

// ---------------------------------------------------------------------------
// The bytes, and what --trace leaves alone

Deno.test("dump() shows 32 bytes at most, in hexadecimal and as text, control characters visible", () => {
  const bytes = (text: string) => encoder.encode(text);
  assert.equal(dump(bytes("ab\r\n")), '61 62 0d 0a  "ab\\r\\n"');
  assert.equal(
    dump(new Uint8Array([0, 0x1b, 0x5c, 0x22, 9])),
    '00 1b 5c 22 09  "\\x00\\x1b\\\\\\"\\t"',
  );
  assert.equal(dump(new Uint8Array()), '  ""');
  const long = dump(bytes("x".repeat(40)));
  assert.equal(long, `${Array(32).fill("78").join(" ")}  "${"x".repeat(32)}" … (+8 octets)`);
  // A character cut at the 32nd byte is left out of the text; the hexadecimal has it.
  const cut = dump(bytes("a".repeat(31) + "é!"));
  assert.match(cut, / 61 c3 {2}"a{31}" … \(\+2 octets\)$/);
  assert.equal(octets(0), "0 octet");
  assert.equal(octets(1), "1 octet");
  assert.equal(octets(5678901), "5 678 901 octets");
});

Deno.test("without --trace the programs keep Deno's own socket functions; --trace replaces them", async () => {
  const file = "tests/fixtures/socket_functions.ts";
  const plain = await runProgram(file, []);
  assert.equal(plain.stdout, "les fonctions de Deno\n", plain.stderr);
  const traced = await runProgram(file, ["--trace"]);
  assert.equal(traced.stdout, "remplacées\n", traced.stderr);
});

// ---------------------------------------------------------------------------
// The course's traced exchanges (ATELIER.md), replayed with the course's commands
// and default ports, in a private network namespace

/** The trace lines of the ATELIER.md console block whose first command is `command`. */
function courseTrace(command: string): string[] {
  const text = Deno.readTextFileSync(`${ROOT}ATELIER.md`);
  const start = text.indexOf("```console\n$ " + command + "\n");
  assert.ok(start >= 0, `ATELIER.md shows a screen of ${command}`);
  const block = text.slice(start, text.indexOf("\n```", start + 3));
  const lines = block.split("\n").filter((line) => /^\[ *\d+,\d ms\] /.test(line));
  assert.ok(lines.length > 0, `ATELIER.md: no trace line after ${command}`);
  return lines;
}

/** Waits until the connection to `port` in namespace `ns` holds `bytes` bytes not read yet. */
async function waitForQueued(ns: string, port: number, bytes: number): Promise<void> {
  const deadline = Date.now() + GUARD_MS;
  let seen = "";
  while (true) {
    const { stdout } = await new Deno.Command("ip", {
      args: ["netns", "exec", ns, "ss", "-Htn", "state", "established", `sport = :${port}`],
    }).output();
    seen = decoder.decode(stdout).trim();
    if (Number(seen.split(/\s+/)[0]) === bytes) return;
    if (Date.now() > deadline) throw new Error(`no ${bytes} bytes queued on :${port}: ${seen}`);
    await new Promise((resolve) => setTimeout(resolve, 25)); // poll interval, not a wait for readiness
  }
}

testTwoHosts(
  "ATELIER.md's TCP trace is what tcp_server.ts --trace shows: two sends, one read, the FIN",
  async (hosts) => {
    const server = hosts.program("server", "tcp_server.ts", ["--trace"]);
    await server.waitFor("Serveur TCP en attente de connexion sur le port 8888...");
    server.kill("SIGSTOP"); // Ctrl+Z
    const nc = hosts.start("server", "nc", ["-N", "127.0.0.1", "8888"], "piped");
    // Two sends, each in the server's socket before the next: the system took them for it.
    await nc.write("un\n");
    await waitForQueued(hosts.server, 8888, 3);
    await nc.write("deux\n");
    await waitForQueued(hosts.server, 8888, 8);
    server.kill("SIGCONT"); // fg
    await server.waitFor("Reçu : deux\n");
    await nc.closeStdin(); // Ctrl+D
    const { code, stderr } = await server.finished();
    assert.equal(code, 0);
    assert.deepEqual(
      masked(stderr),
      masked(courseTrace("deno run --allow-net tcp_server.ts --trace").join("\n")),
    );
  },
);

testTwoHosts(
  "ATELIER.md's UDP trace is what ex2_udp_client.ts --trace shows: a reply, then a datagram lost",
  async (hosts) => {
    const server = hosts.program("server", "exercises/ex2_udp_server.ts");
    await server.waitFor("Serveur UDP en écoute de messages sur le port 5000...");
    const client = hosts.program("server", "exercises/ex2_udp_client.ts", ["--trace"], "piped");
    await client.write("bonjour\n");
    await client.waitFor("Serveur: ");
    server.kill("SIGINT"); // Ctrl+C
    assert.equal((await server.finished()).code, 0);
    await client.write("encore ?\n");
    await client.waitFor("Pas de réponse du serveur après 2 s");
    await client.write("quit\n");
    const { code, stderr } = await client.finished();
    assert.equal(code, 0);
    assert.deepEqual(
      masked(stderr),
      masked(courseTrace("deno run --allow-net exercises/ex2_udp_client.ts --trace").join("\n")),
    );
  },
);
