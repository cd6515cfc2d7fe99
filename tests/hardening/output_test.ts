import assert from "node:assert/strict";
/**
 * output_test.ts -- what the programs do when their own stdout misbehaves (a
 * terminal or pipe that stops reading, a pipe closed early, a full disk), and
 * what they print of text that holds control characters.
 *
 * @module
 */
import { guard, MiB, ROOT, rss, startServer, testWith, writeAll } from "../helpers.ts";
import { testOnPrivateHost } from "../netns.ts";

const encoder = new TextEncoder();

testOnPrivateHost(
  ["python3"],
  "tcp_server.ts -k whose stdout is never read: memory stays bounded, the sender is held back, SIGTERM ends it",
  async (host) => {
    // stdout is a pipe that this test does not read until the end: once the pipe's
    // buffer is full, every write the server makes to stdout waits. On a private
    // host the server takes the default port, so that its output need not be read.
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", host.name, "deno", "run", "--allow-net", "tcp_server.ts", "-k"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const stderr = new Response(child.stderr).text();
    // A client that connects as soon as the server listens, sends as fast as it can,
    // and says when its sends stop going through.
    const sender = host.start("python3", [
      "-c",
      `import socket, sys, time
deadline = time.time() + 20
while True:
    try:
        s = socket.create_connection(("127.0.0.1", 8888)); break
    except ConnectionRefusedError:
        if time.time() > deadline: raise
        time.sleep(0.01)  # the server is starting: poll its port
print("connected", flush=True)
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
    ], "piped");
    await sender.waitFor("connected\n");
    const before = rss(child.pid);
    const [verdict] = await sender.waitFor(/^(held back|all sent) \d+$/m);
    assert.match(verdict, /^held back /, "TCP held the sender back");
    const grown = rss(child.pid) - before;
    assert.ok(grown < 64 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    child.kill("SIGTERM");
    const status = await guard(child.status, "the end after SIGTERM", sender);
    assert.equal(status.code, 0);
    assert.equal(await stderr, "");
    await sender.closeStdin();
    await sender.finished();
    // Now read what stdout holds: the server wrote whole lines.
    const rest = await new Response(child.stdout).text();
    assert.match(rest, /^Serveur TCP en attente de connexion sur le port 8888\.\.\.\n/);
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
      const r = await guard(out.read(), "ready line");
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
    for (let r; !(r = await guard(out.read(), "end of sed")).done;) {
      stdout += r.value;
    }
    const { code } = await guard(child.status, "exit");
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
