import assert from "node:assert/strict";
/**
 * output_test.ts -- what the programs do when their own stdout misbehaves (a
 * terminal or pipe that stops reading, a pipe closed early, a full disk), and
 * what they print of text that holds control characters.
 *
 * @module
 */
import { MiB, ROOT, rss, startServer, testWith, writeAll } from "../helpers.ts";

const encoder = new TextEncoder();

/** Resolves with `promise`, or fails with `what` and `transcript()` after the guard. */
async function guarded<T>(promise: Promise<T>, what: string, transcript: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} after 20 s\n${transcript()}`)), 20_000);
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
}

testWith(
  ["python3"],
  "tcp_server.ts -k whose stdout is never read: memory stays bounded, the sender is held back, SIGTERM ends it",
  async () => {
    // stdout is a pipe that this test does not read until the end: once the pipe's
    // buffer is full, every write the server makes to stdout waits.
    const child = new Deno.Command("deno", {
      args: ["run", "--allow-net", "tcp_server.ts", "-k", "--port", "0"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const stdout = child.stdout.getReader();
    // The first read gives the ready line and its port; after it, stdout is left alone.
    const { value } = await guarded(stdout.read(), "ready line", () => "");
    const port = Number(new TextDecoder().decode(value).match(/ port (\d+)\.\.\./)![1]);
    const before = rss(child.pid);
    // A client that sends as fast as it can, and says when its sends stop going through.
    const sender = new Deno.Command("python3", {
      args: [
        "-c",
        `import socket, sys
s = socket.create_connection(("127.0.0.1", ${port}))
s.settimeout(2)
line = b"x" * 99 + b"\\n"
sent = 0
try:
    while sent < 512 * 1024 * 1024:
        s.sendall(line * 1000)
        sent += 100000
    print("all sent", sent, flush=True)
except socket.timeout:
    print("held back", sent, flush=True)
sys.stdin.read()`,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const said = sender.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const { value: verdict } = await guarded(said.read(), "verdict from the sender", () => "");
    assert.match(verdict!, /^held back \d+/, "TCP held the sender back");
    const grown = rss(child.pid) - before;
    assert.ok(grown < 64 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    child.kill("SIGTERM");
    const status = await guarded(child.status, "exit after SIGTERM", () => "");
    assert.equal(status.code, 0);
    assert.equal(await stderr, "");
    await sender.stdin.close();
    await sender.status;
    await said.cancel();
    // Read what stdout holds: the server wrote only whole lines.
    let rest = "";
    for (let r; !(r = await stdout.read()).done;) rest += new TextDecoder().decode(r.value);
    assert.match(rest, /Reçu : x{99}\n/);
  },
);

testWith(
  ["python3", "bash"],
  "tcp_server.ts | sed -u 3q (head -n 3, unbuffered) ends quietly once the reader has enough, and blames no one",
  async () => {
    const child = new Deno.Command("bash", {
      args: [
        "-c",
        `deno run --allow-net tcp_server.ts -k --port 0 | sed -u 3q; echo "code \${PIPESTATUS[0]}" >&2`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    while (!/ port (\d+)\.\.\./.test(stdout)) {
      const r = await guarded(out.read(), "ready line", () => stdout);
      if (r.done) break;
      stdout += r.value;
    }
    const port = Number(stdout.match(/ port (\d+)\.\.\./)![1]);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    // Lines until the server has gone (its exit closes the connection).
    const lines = encoder.encode("une ligne\n".repeat(1000));
    try {
      for (let k = 0; k < 10_000; k++) await writeAll(conn, lines);
    } catch {
      // The server ended: its reader had read enough.
    }
    conn.close();
    for (let r; !(r = await guarded(out.read(), "end of sed", () => stdout)).done;) {
      stdout += r.value;
    }
    const { code } = await guarded(child.status, "exit", () => stdout);
    assert.equal(code, 0);
    assert.equal(stdout.split("\n").length, 4, "sed printed three lines");
    assert.equal(await new Response(child.stderr).text(), "code 0\n");
  },
);

Deno.test("udp_client.ts with stdout on /dev/full says so in French, exit 1", async () => {
  const { code, stdout, stderr } = await new Deno.Command("bash", {
    args: ["-c", "deno run --allow-net udp_client.ts --port 9 > /dev/full"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(code, 1);
  assert.equal(stdout.length, 0);
  assert.equal(
    new TextDecoder().decode(stderr),
    "Erreur: impossible d'écrire la sortie standard (plus de place sur le disque)\n",
  );
});

Deno.test("udp_server.ts prints one datagram as one line, its control characters visible", async () => {
  const { server, port } = await startServer("udp_server.ts");
  await using _ = server;
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const me = `127.0.0.1:${(socket.addr as Deno.NetAddr).port}`;
  const forged =
    "hello\n[10.9.9.9:4444] Message reçu: forged\x1b]0;titre\x07\x1b[31m rouge\x00\x7f";
  await socket.send(encoder.encode(forged), { transport: "udp", hostname: "127.0.0.1", port });
  socket.close();
  await server.waitFor(/Message reçu: hello.*\n/);
  assert.ok(
    server.stdout.endsWith(
      `[${me}] Message reçu: hello\\n[10.9.9.9:4444] Message reçu: forged` +
        "\\x1b]0;titre\\x07\\x1b[31m rouge\\x00\\x7f\n",
    ),
    server.transcript(),
  );
  server.kill("SIGINT");
  await server.finished();
});

Deno.test("tcp_server.ts shows a \\r and an ESC sent by a client instead of obeying them", async () => {
  const { server, port } = await startServer("tcp_server.ts");
  await using _ = server;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, encoder.encode("vrai\r[10.9.9.9:4444] faux\x1b[2J\n"));
  conn.close();
  const { code, stdout } = await server.finished();
  assert.equal(code, 0);
  assert.match(stdout, /\nReçu : vrai\\r\[10\.9\.9\.9:4444\] faux\\x1b\[2J\nDéconnecté\n$/);
});

for (const file of ["tcp_server.ts", "exercises/ex1_tcp_server.ts"]) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.test(`${file} on ${signal} prints the line it had received without its newline`, async () => {
      const { server, port } = await startServer(file);
      await using _ = server;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await writeAll(conn, encoder.encode("full line 1\nfull line 2\npartial"));
      await server.waitFor("Reçu : full line 2\n");
      server.kill(signal);
      const { code, stdout } = await server.finished();
      conn.close();
      assert.equal(code, 0);
      const end = file === "tcp_server.ts" ? "Fin du programme" : "Fin de la conversation";
      assert.match(stdout, new RegExp(`\\nReçu : full line 2\\nReçu : partial\\n${end}\\n$`));
    });
  }
}
