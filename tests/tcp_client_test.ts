import assert from "node:assert/strict";
import {
  closedPort,
  listeningTool,
  program,
  Running,
  runProgram,
  startServer,
  testWith,
  workshopPeer,
} from "./helpers.ts";

/** Starts `nc -l` on a port of its choosing and waits until it listens. */
async function ncListening(): Promise<{ nc: Running; port: number }> {
  const { tool, port } = await listeningTool(
    "nc",
    ["-n", "-v", "-l", "127.0.0.1", "0"],
    /Listening on \S+ (\d+)/,
  );
  return { nc: tool, port };
}

testWith(["nc"], "tcp_client.ts sends the workshop's message, which nc -l receives", async () => {
  const { nc, port } = await ncListening();
  await using _ = nc;
  const { code, stdout, stderr } = await runProgram("tcp_client.ts", ["--port", String(port)]);
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.equal(stdout, `9 octets envoyés à 127.0.0.1:${port}\n`);
  assert.equal((await nc.finished()).stdout, "abcdefg!\n");
});

testWith(["nc"], "tcp_client.ts sends piped stdin instead of the default message", async () => {
  const { nc, port } = await ncListening();
  await using _ = nc;
  await using client = program("tcp_client.ts", ["--port", String(port)], { stdin: "piped" });
  await client.write("a\nb\n");
  await client.closeStdin();
  const { code, stdout } = await client.finished();
  assert.equal(code, 0);
  assert.equal(stdout, `4 octets envoyés à 127.0.0.1:${port}\n`);
  assert.equal((await nc.finished()).stdout, "a\nb\n");
});

testWith(["nc"], "tcp_client.ts sends the default message when stdin is empty", async () => {
  const { nc, port } = await ncListening();
  await using _ = nc;
  // stdin: "null" is /dev/null, as in CI or cron.
  const { code } = await runProgram("tcp_client.ts", ["--port", String(port)], { stdin: "null" });
  assert.equal(code, 0);
  assert.equal((await nc.finished()).stdout, "abcdefg!\n");
});

testWith(["nc"], "tcp_client.ts sends --message and leaves piped stdin alone", async () => {
  const { nc, port } = await ncListening();
  await using _ = nc;
  await using client = program("tcp_client.ts", ["--port", String(port), "--message", "choisi\n"], {
    stdin: "piped",
  });
  await client.write("ignoré\n");
  await client.closeStdin();
  assert.equal((await client.finished()).code, 0);
  assert.equal((await nc.finished()).stdout, "choisi\n");
});

testWith(
  ["nc"],
  "tcp_client.ts writes every byte of a 20 MB stdin (short writes included)",
  async () => {
    const { nc, port } = await ncListening();
    await using _ = nc;
    const size = 20 * 1024 * 1024;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = 97 + (i % 26);
    await using client = program("tcp_client.ts", ["--port", String(port)], { stdin: "piped" });
    const writing = client.write(data).then(() => client.closeStdin());
    const [result] = await Promise.all([client.finished(), writing]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout, `${size} octets envoyés à 127.0.0.1:${port}\n`);
    const received = (await nc.finished()).stdout;
    assert.equal(received.length, size);
    assert.equal(received, new TextDecoder().decode(data));
  },
);

testWith(["socat"], "tcp_client.ts talks to socat, and prints what socat sends back", async () => {
  const { tool: socat, port } = await listeningTool(
    "socat",
    ["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "SYSTEM:'echo bienvenue; cat >&2'"],
    /listening on AF=2 127\.0\.0\.1:(\d+)/,
  );
  await using _ = socat;
  const { code, stdout } = await runProgram("tcp_client.ts", ["--port", String(port)]);
  assert.equal(code, 0);
  assert.equal(stdout, `9 octets envoyés à 127.0.0.1:${port}\nServeur: bienvenue\n`);
  await socat.waitFor("abcdefg!", "stderr");
});

Deno.test("tcp_client.ts talks to tcp_server.ts", async () => {
  const { server, port } = await startServer("tcp_server.ts");
  await using _ = server;
  const { code } = await runProgram("tcp_client.ts", ["--port", String(port)]);
  assert.equal(code, 0);
  const result = await server.finished();
  assert.equal(result.code, 0);
  assert.match(result.stdout, /\nReçu : abcdefg!\nDéconnecté\n$/);
});

testWith(["python3"], "tcp_client.ts talks to a workshop-style server", async () => {
  await using peer = workshopPeer(["tcp-server", "0"]);
  const [, port] = await peer.waitFor(/port (\d+)/);
  const { code } = await runProgram("tcp_client.ts", ["--port", port]);
  assert.equal(code, 0);
  const { stdout } = await peer.finished();
  assert.match(stdout, /Reçu : abcdefg!\nDéconnecté\n$/);
});

testWith(
  ["python3"],
  "tcp_client.ts with no server: Erreur: Serveur indisponible, exit 1",
  async () => {
    const { holder, port } = await closedPort("tcp");
    await using _ = holder;
    const { code, stdout, stderr } = await runProgram("tcp_client.ts", ["--port", String(port)]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(stderr, "Erreur: Serveur indisponible\n");
  },
);

Deno.test("tcp_client.ts with a host that does not resolve: one French line, exit 1", async () => {
  const { code, stderr } = await runProgram("tcp_client.ts", ["--host", "nulle-part.invalid"]);
  assert.equal(code, 1);
  assert.equal(stderr, "Erreur: hôte introuvable « nulle-part.invalid » (vérifiez --host)\n");
});

Deno.test("tcp_client.ts without --allow-net names the flag instead of prompting: exit 3", async () => {
  const { code, stderr } = await runProgram("tcp_client.ts", [], { denoFlags: [] });
  assert.equal(code, 3);
  assert.equal(
    stderr,
    "Erreur: accès réseau non autorisé pour joindre 127.0.0.1:8888. " +
      "Lancez : deno run --allow-net tcp_client.ts\n",
  );
});
