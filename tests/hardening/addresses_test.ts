/**
 * addresses_test.ts -- every pair over IPv6 and IPv4-mapped addresses, hosts
 * that do not resolve or are not this machine's, and the permissions.
 * Each case starts the real programs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { program, REPLY, Running, runProgram, startServer, UDP_TIMEOUT } from "../helpers.ts";

// --- Addresses -----------------------------------------------------------------

/**
 * Starts a server on `host`, then runs its client to the end against it.
 * Returns the client's result, and the server still running: the caller
 * waits for the server's lines, then stops it (a UDP server runs until told).
 */
async function pairOn(
  host: string,
  serverFile: string,
  clientFile: string,
  input: string,
  connectTo: string,
  clientArgs: string[] = [],
) {
  const { server, port } = await startServer(serverFile, ["--host", host]);
  try {
    await using client = program(
      clientFile,
      ["--host", connectTo, "--port", String(port), ...clientArgs],
      { stdin: "piped" },
    );
    await client.write(input);
    await client.closeStdin();
    return { client: await client.finished(), server };
  } catch (err) {
    await server[Symbol.asyncDispose]();
    throw err;
  }
}

/** Stops a server that runs until told (SIGTERM, as Ctrl+C), and returns its output. */
async function stop(server: Running) {
  server.kill("SIGTERM");
  const result = await server.finished();
  assert.equal(result.code, 0, server.transcript());
  // Each program's own end line, as the course prints it.
  assert.match(result.stdout, /\n(Fin du programme|Fin du serveur UDP)\n$/);
  return result;
}

for (const [host, connectTo] of [["::1", "::1"], ["::", "::1"], ["::", "127.0.0.1"]]) {
  Deno.test(`every pair works with the server on ${host} and the client to ${connectTo}`, async () => {
    const v6 = connectTo === "::1";
    const peer = v6 ? /\[::1\]:\d+/ : /127\.0\.0\.1:\d+/;
    {
      const { client, server } = await pairOn(
        host,
        "tcp_server.ts",
        "tcp_client.ts",
        "",
        connectTo,
      );
      await using _ = server;
      assert.equal(client.code, 0);
      assert.match(client.stdout, v6 ? /envoyés à \[::1\]:\d+\n/ : /envoyés à 127\.0\.0\.1:\d+\n/);
      // Its one client has gone: the server ends by itself.
      const { code, stdout } = await server.finished();
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`Client connecté : ${peer.source}\\nReçu : abcdefg!\\n`));
    }
    {
      const { client, server } = await pairOn(
        host,
        "udp_server.ts",
        "udp_client.ts",
        "",
        connectTo,
      );
      await using _ = server;
      assert.equal(client.code, 0);
      await server.waitFor(new RegExp(`\\[${peer.source}\\] Message reçu: Salut !\\n`));
      await stop(server);
    }
    {
      const { client, server } = await pairOn(
        host,
        "exercises/ex1_tcp_server.ts",
        "exercises/ex1_tcp_client.ts",
        "ipv6 ?\nquit\n",
        connectTo,
      );
      await using _ = server;
      assert.equal(client.code, 0);
      assert.equal(client.stdout, `Serveur: ${REPLY}ipv6 ?\nFin de la conversation\n`);
      const { code, stdout } = await server.finished();
      assert.equal(code, 0);
      assert.match(stdout, /\nReçu : ipv6 \?\nReçu : quit\nFin de la conversation\n$/);
    }
    {
      const { client, server } = await pairOn(
        host,
        "exercises/ex2_udp_server.ts",
        "exercises/ex2_udp_client.ts",
        "ipv6 ?\nquit\n",
        connectTo,
        ["--timeout", UDP_TIMEOUT],
      );
      await using _ = server;
      assert.equal(client.code, 0);
      assert.equal(client.stdout, `Serveur: ${REPLY}ipv6 ?\nFin du client UDP\n`);
      await server.waitFor(new RegExp(`\\[${peer.source}\\] Reçu : quit\\n`));
      const { stdout } = await stop(server);
      assert.match(stdout, new RegExp(`\\[${peer.source}\\] Reçu : ipv6 \\?\\n`));
    }
  });
}

const SERVERS = [
  "tcp_server.ts",
  "udp_server.ts",
  "exercises/ex1_tcp_server.ts",
  "exercises/ex2_udp_server.ts",
];
const CLIENTS = [
  "tcp_client.ts",
  "udp_client.ts",
  "exercises/ex1_tcp_client.ts",
  "exercises/ex2_udp_client.ts",
];

Deno.test("every program says so in one line when its host does not resolve: exit 1", async () => {
  for (const file of [...SERVERS, ...CLIENTS]) {
    const { code, stdout, stderr } = await runProgram(file, ["--host", "nulle-part.invalid"]);
    assert.equal(code, 1, file);
    assert.equal(stdout, "");
    assert.equal(stderr, "Erreur: hôte introuvable « nulle-part.invalid » (vérifiez --host)\n");
  }
});

Deno.test("every server refuses an address that is not this machine's: exit 1", async () => {
  for (const file of SERVERS) {
    const { code, stderr } = await runProgram(file, ["--host", "192.0.2.1", "--port", "0"]);
    assert.equal(code, 1, file);
    assert.equal(
      stderr,
      "Erreur: l'adresse 192.0.2.1 n'appartient pas à cette machine (essayez --host 0.0.0.0)\n",
    );
  }
});

// --- Permissions ---------------------------------------------------------------

Deno.test("every program runs with only --allow-net, stdin closed, and never prompts", async () => {
  // --no-prompt turns any permission the program would ask for into an error.
  const flags = { denoFlags: ["--allow-net", "--no-prompt"] };
  const pairs: [string, string, string, RegExp][] = [
    ["tcp_server.ts", "tcp_client.ts", "", /Reçu : abcdefg!\n/],
    ["udp_server.ts", "udp_client.ts", "", /Message reçu: Salut !\n/],
    ["exercises/ex1_tcp_server.ts", "exercises/ex1_tcp_client.ts", "", /Fin de la conversation\n/],
    ["exercises/ex2_udp_server.ts", "exercises/ex2_udp_client.ts", "", /Reçu : quit\n/],
  ];
  for (const [serverFile, clientFile, , serverSaw] of pairs) {
    await using server = program(serverFile, ["--port", "0"], flags);
    const [, port] = await server.waitFor(/ port (\d+)\.\.\./);
    const client = await runProgram(clientFile, ["--port", port], flags); // stdin: /dev/null
    assert.equal(client.code, 0, `${clientFile}: ${client.stderr}`);
    assert.equal(client.stderr, "");
    await server.waitFor(serverSaw);
    assert.equal(server.stderr, "");
  }
});

Deno.test("every program without --allow-net, or with --deny-net, names --allow-net: exit 3", async () => {
  for (const file of [...SERVERS, ...CLIENTS]) {
    for (const denoFlags of [[], ["--deny-net"]]) {
      const { code, stdout, stderr } = await runProgram(file, ["--port", "1"], { denoFlags });
      assert.equal(code, 3, `${file} ${denoFlags}`);
      assert.equal(stdout, "");
      assert.equal(
        stderr,
        `Erreur: accès réseau non autorisé pour ${
          SERVERS.includes(file) ? "écouter sur 0.0.0.0:1" : "joindre 127.0.0.1:1"
        }. Lancez : deno run --allow-net ${file}\n`,
      );
    }
  }
});
