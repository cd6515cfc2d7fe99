/**
 * errors_test.ts -- the errors a user meets before any socket works: one
 * French line each, and its exit code. The net permission is checked on a
 * real terminal, where Deno would otherwise prompt in English.
 *
 * Every port here is one the system picked (port 0), or one that no program
 * can touch because Deno refuses it the network.
 */
import assert from "node:assert/strict";
import { program, Running, runProgram, Terminal, testWith } from "../helpers.ts";

/** How long a test waits for a datagram before it fails (a guard, not a timing). */
const GUARD_MS = 20_000;

/** `promise`, or a failure naming `what` if it takes longer than the guard. */
async function guarded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} after ${GUARD_MS} ms`)), GUARD_MS);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A UDP socket of the test's own, on a port the system picks; it never answers. */
function silentPeer(hostname = "127.0.0.1"): { socket: Deno.DatagramConn; port: number } {
  const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  return { socket, port: (socket.addr as Deno.NetAddr).port };
}

/** The one line a program printed on stderr (and checks it is the only one). */
function oneLine(stderr: string): string {
  assert.equal(stderr.split("\n").length, 2, `exactly one line:\n${stderr}`);
  return stderr;
}

// --- Deno's net permission ---------------------------------------------------

/** Deno flags, program, its flags, and what it was refused, as the French line says it. */
const REFUSED: [string, string, string, string][] = [
  ["", "tcp_server.ts", "--port 0", "écouter sur 0.0.0.0:0"],
  ["", "udp_server.ts", "--port 0", "écouter sur 0.0.0.0:0"],
  ["", "exercises/ex1_tcp_server.ts", "--port 0", "écouter sur 0.0.0.0:0"],
  ["", "exercises/ex2_udp_server.ts", "--host ::1 --port 0", "écouter sur [::1]:0"],
  ["", "tcp_client.ts", "", "joindre 127.0.0.1:8888"],
  ["", "udp_client.ts", "", "joindre 127.0.0.1:8888"],
  ["", "exercises/ex1_tcp_client.ts", "", "joindre 127.0.0.1:5000"],
  ["", "exercises/ex2_udp_client.ts", "", "joindre 127.0.0.1:5000"],
  // A narrow --allow-net that does not cover what the program needs.
  ["--allow-net=127.0.0.1:1", "tcp_server.ts", "--port 0", "écouter sur 0.0.0.0:0"],
  ["--allow-net=127.0.0.1:8888", "udp_client.ts", "", "ouvrir une socket UDP sur 0.0.0.0:0"],
  ["--allow-net=0.0.0.0:0", "exercises/ex2_udp_client.ts", "", "joindre 127.0.0.1:5000"],
];

testWith(
  ["tmux"],
  "every program on a terminal without the net permission prints the French line, never Deno's prompt: exit 3",
  async () => {
    for (const [denoFlags, file, args, refused] of REFUSED) {
      const command = ["deno run", denoFlags, file, args].filter((part) => part !== "").join(" ");
      await using terminal = await Terminal.start(command);
      const status = await terminal.exitStatus();
      const screen = await terminal.screen();
      // The terminal wraps long lines at 100 columns: join them back.
      const text = screen.replace(/\n/g, "");
      assert.equal(status, 3, `${command}\n${screen}`);
      assert.ok(
        text.startsWith(
          `Erreur: accès réseau non autorisé pour ${refused}. ` +
            `Lancez : deno run --allow-net ${file}[exit status 3]`,
        ),
        `${command}\n${screen}`,
      );
      assert.doesNotMatch(screen, /Deno requests|Allow\?|net access/, command);
    }
  },
);

Deno.test("a narrow --allow-net that covers what the program needs is enough", async () => {
  await using server = program("tcp_server.ts", ["--host", "127.0.0.1", "--port", "0"], {
    denoFlags: ["--allow-net=127.0.0.1", "--no-prompt"],
  });
  await server.waitFor(/^Serveur TCP en attente de connexion sur le port \d+\.\.\.\n$/);

  const { socket, port } = silentPeer();
  try {
    const { code, stdout, stderr } = await runProgram("udp_client.ts", ["--port", String(port)], {
      denoFlags: [`--allow-net=0.0.0.0:0,127.0.0.1:${port}`, "--no-prompt"],
    });
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(stdout, `Message envoyé à 127.0.0.1:${port} (8 octets)\n`);
    const [data] = await guarded(socket.receive(), "datagram");
    assert.equal(new TextDecoder().decode(data), "Salut !\n");
  } finally {
    socket.close();
  }
});

Deno.test("ex2_udp_server.ts not allowed to answer a client says so in French and goes on", async () => {
  // Allowed to listen on 0.0.0.0 (any port), not to send to 127.0.0.1.
  await using server = program("exercises/ex2_udp_server.ts", ["--port", "0"], {
    denoFlags: ["--allow-net=0.0.0.0", "--no-prompt"],
  });
  const [, serverPort] = await server.waitFor(/ port (\d+)\.\.\.\n/);
  const { socket, port } = silentPeer();
  try {
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: Number(serverPort) };
    for (const text of ["un", "deux"]) {
      await socket.send(new TextEncoder().encode(`${text}\n`), to);
      await server.waitFor(`[127.0.0.1:${port}] Reçu : ${text}\n`);
    }
    await server.waitFor(/réponse non envoyée[^]*réponse non envoyée.*\n/, "stderr");
    assert.equal(
      server.stderr,
      (`[127.0.0.1:${port}] Erreur: réponse non envoyée ` +
        `(accès réseau non autorisé à 127.0.0.1:${port})\n`).repeat(2),
    );
  } finally {
    socket.close();
  }
});

// --- --host ------------------------------------------------------------------

Deno.test("an invalid --host gets one French line naming what is allowed: exit 2", async () => {
  const cases: [string, string[], RegExp][] = [
    [
      "tcp_client.ts",
      ["--host", "a b"],
      /^Erreur: adresse invalide « a b » pour --host : attendu une adresse IP \(127\.0\.0\.1, ::1\) ou un nom fait de lettres sans accent, de chiffres, de « - » et de « \. » \(voir : /,
    ],
    [
      "tcp_server.ts",
      ["--host", "a".repeat(300)],
      /^Erreur: nom d'hôte trop long pour --host \(300 caractères\) : 253 au plus \(voir : /,
    ],
    [
      "exercises/ex2_udp_client.ts",
      ["--host", `${"b".repeat(64)}.example`],
      /^Erreur: nom d'hôte invalide « b{30}… » pour --host : 63 caractères au plus entre deux points/,
    ],
    [
      "udp_client.ts",
      ["--host", "127.0.0.1:8888"],
      /^Erreur: l'adresse « 127\.0\.0\.1:8888 » contient un port : donnez-le à part \(--host 127\.0\.0\.1 --port 8888\)/,
    ],
  ];
  for (const [file, args, expected] of cases) {
    const { code, stdout, stderr } = await runProgram(file, args);
    assert.equal(code, 2, `${file} ${args.join(" ")}: ${stderr}`);
    assert.equal(stdout, "");
    assert.match(oneLine(stderr), expected);
  }
});

Deno.test("a --host that is not UTF-8 (byte 0xff) gets the French line: exit 2", async () => {
  // Only a shell can hand a program a byte that is not UTF-8.
  await using shell = new Running("sh", [
    "-c",
    `exec deno run --allow-net udp_client.ts --host "$(printf '\\377')"`,
  ]);
  const { code, stderr } = await shell.finished();
  assert.equal(code, 2);
  assert.match(oneLine(stderr), /^Erreur: adresse invalide « \uFFFD » pour --host : attendu/);
});

Deno.test("udp_client.ts takes --host [::1] as ::1", async () => {
  const { socket, port } = silentPeer("::1");
  try {
    const { code, stdout, stderr } = await runProgram("udp_client.ts", [
      "--host",
      "[::1]",
      "--port",
      String(port),
    ]);
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(stdout, `Message envoyé à [::1]:${port} (8 octets)\n`);
    const [data] = await guarded(socket.receive(), "datagram");
    assert.equal(new TextDecoder().decode(data), "Salut !\n");
  } finally {
    socket.close();
  }
});

// --- UDP datagram size ---------------------------------------------------------

Deno.test("udp_client.ts sends a 65,507-byte --message, refuses one byte more: exit 2", async () => {
  const { socket, port } = silentPeer();
  try {
    const most = await runProgram("udp_client.ts", [
      "--port",
      String(port),
      "--message",
      "a".repeat(65507),
    ]);
    assert.equal(most.stderr, "");
    assert.equal(most.stdout, `Message envoyé à 127.0.0.1:${port} (65507 octets)\n`);
    const [data] = await guarded(socket.receive(new Uint8Array(65536)), "datagram");
    assert.equal(data.length, 65507);

    const over = await runProgram("udp_client.ts", [
      "--port",
      String(port),
      "--message",
      "a".repeat(65508),
    ]);
    assert.equal(over.code, 2);
    assert.equal(over.stdout, "");
    assert.match(
      oneLine(over.stderr),
      /^Erreur: message trop long pour un datagramme UDP : 65508 octets, 65507 au plus \(un paquet IP de 65535 octets, moins les en-têtes IP et UDP\) \(voir : /,
    );
  } finally {
    socket.close();
  }
});

Deno.test("ex2_udp_client.ts with a typed line too long for a datagram: one French line, exit 1", async () => {
  const { socket, port } = silentPeer();
  try {
    await using client = program("exercises/ex2_udp_client.ts", ["--port", String(port)], {
      stdin: "piped",
    });
    await client.write("a".repeat(70000) + "\n");
    const { code, stderr } = await client.finished();
    assert.equal(code, 1);
    assert.equal(
      stderr,
      "Erreur: message trop long pour un datagramme UDP (65507 octets au plus)\n",
    );
  } finally {
    socket.close();
  }
});

// --- --timeout -----------------------------------------------------------------

Deno.test("a --timeout below 0.1 s is refused, naming the minimum: exit 2", async () => {
  for (const file of ["tcp_client.ts", "exercises/ex2_udp_client.ts"]) {
    const { code, stdout, stderr } = await runProgram(file, ["--timeout", "0.001"]);
    assert.equal(code, 2, file);
    assert.equal(stdout, "");
    assert.match(
      oneLine(stderr),
      /^Erreur: délai trop court « 0\.001 » : 0,1 s au moins, sinon même un serveur sur cette machine n'a pas le temps de répondre \(voir : /,
    );
  }
});

Deno.test("ex2_udp_client.ts takes --timeout 0,5 (a decimal comma) and prints it back", async () => {
  const { socket, port } = silentPeer();
  try {
    await using client = program(
      "exercises/ex2_udp_client.ts",
      ["--port", String(port), "--timeout", "0,5"],
      { stdin: "piped" },
    );
    await client.write("bonjour\n");
    const [data] = await guarded(socket.receive(), "datagram");
    assert.equal(new TextDecoder().decode(data), "bonjour\n");
    await client.waitFor(
      "Pas de réponse du serveur après 0,5 s (UDP ne garantit pas la livraison)\n",
    );
    const { code, stdout, stderr } = await client.finished(); // end of input: quit
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.match(stdout, /Fin du client UDP\n$/);
  } finally {
    socket.close();
  }
});
