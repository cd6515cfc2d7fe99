/**
 * bundle_test.ts -- `deno task bundle` (scripts/bundle.ts).
 *
 * The bundles are built once into a temporary folder. Then one of each kind
 * (a TCP server, a UDP server, the exercise 1 client) is copied alone into an
 * empty folder, with no deno.json above it, and run there exactly as the
 * course says: `deno run --allow-net --unstable-net FILE.js`. A real peer talks
 * to it: nc, or one of our programs run from the project.
 */
import assert from "node:assert/strict";
import { bundleArgs, bundleName } from "../../scripts/bundle.ts";
import { PROGRAMS } from "../../scripts/compile.ts";
import { program, REPLY, ROOT, Running, startServer, testWith } from "../helpers.ts";

/** The course's command line for a bundle. */
const RUN = ["run", "--allow-net", "--unstable-net"];

/** Runs `deno task bundle` with these arguments. */
async function bundleTask(args: string[]) {
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: ["task", "bundle", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** The bundles, built once for every test of this file. */
const built = await Deno.makeTempDir({ prefix: "socket-kit-bundles-" });
const task = await bundleTask(["--output-dir", built]);

/**
 * Copies one bundle alone into a fresh empty folder, as onto another machine.
 * The folder is in the system's temporary folder, far from any deno.json.
 */
async function alone(
  file: string,
): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "socket-kit-alone-" });
  await Deno.copyFile(`${built}/${bundleName(file)}`, `${dir}/${bundleName(file)}`);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [bundleName(file)]);
  // No configuration file in this folder or any above, so nothing turns --unstable-net on.
  const parts = dir.split("/").filter((part) => part !== "");
  for (let depth = 0; depth <= parts.length; depth++) {
    const folder = "/" + parts.slice(0, depth).join("/");
    for (const name of ["deno.json", "deno.jsonc"]) {
      const path = `${folder.replace(/\/$/, "")}/${name}`;
      assert.throws(() => Deno.statSync(path), `${path} exists`);
    }
  }
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** Starts a bundle from inside its folder: `env -C` changes the folder, then runs deno. */
function runBundle(dir: string, file: string, args: string[], stdin?: "piped"): Running {
  return new Running("env", ["-C", dir, "deno", ...RUN, bundleName(file), ...args], { stdin });
}

Deno.test("deno task bundle writes one executable .js file per program, shebang first, and says where", async () => {
  assert.equal(task.code, 0, task.stderr);
  const lines = task.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, -1), PROGRAMS.map(({ file }) => `${built}/${bundleName(file)}`));
  assert.equal(
    lines.at(-1),
    `8 fichiers dans ${built}/ : copiez-en un sur une machine qui a Deno 2, ` +
      "puis lancez-le avec deno run --allow-net --unstable-net FICHIER.js",
  );
  // Deno's own "experimental" warning and timings are not shown on success.
  assert.doesNotMatch(task.stderr, /experimental|Bundled/);
  for (const { file } of PROGRAMS) {
    const path = `${built}/${bundleName(file)}`;
    const text = await Deno.readTextFile(path);
    assert.equal(
      text.split("\n")[0],
      "#!/usr/bin/env -S deno run --allow-net --unstable-net",
      file,
    );
    // Self-contained: the only imports left are Deno's built-in node: modules.
    const imports = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    assert.ok(imports.every((i) => i.startsWith("node:")), `${file} imports ${imports}`);
    assert.doesNotMatch(text, /from "\.\.?\//, file);
    assert.equal((await Deno.stat(path)).mode! & 0o111, 0o111, `${file} is executable`);
  }
});

Deno.test("bundleArgs() asks deno bundle for the deno platform, one output file per program", () => {
  assert.deepEqual(bundleArgs("exercises/ex1_tcp_client.ts", "dist"), [
    "bundle",
    "--platform",
    "deno",
    "--output",
    "dist/ex1_tcp_client.js",
    "exercises/ex1_tcp_client.ts",
  ]);
  assert.throws(() => bundleArgs("nope.ts", "dist"), /unknown program nope\.ts/);
});

Deno.test("deno task bundle answers a bad argument with its usage and exit code 2", async () => {
  const { code, stdout, stderr } = await bundleTask(["--bogus"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^Usage : deno task bundle \[--output-dir DOSSIER\]$/m);
});

testWith(
  ["nc"],
  "tcp_server.js, alone in a folder, serves nc and prints what tcp_server.ts prints",
  async () => {
    await using folder = await alone("tcp_server.ts");
    await using server = runBundle(folder.dir, "tcp_server.ts", ["--port", "0"]);
    const [, port] = await server.waitFor(/ port (\d+)\.\.\.\n/);
    // nc -N sends FIN at the end of its input: the server sees the client hang up.
    await using nc = new Running("nc", ["-N", "127.0.0.1", port], { stdin: "piped" });
    await nc.write("abcdefg!\n");
    await nc.closeStdin();
    const { code, stdout, stderr } = await server.finished();
    assert.equal(stderr, "");
    assert.equal(code, 0);
    assert.equal(
      stdout.replace(/:\d+\n/g, ":PORT\n"),
      `Serveur TCP en attente de connexion sur le port ${port}...\n` +
        "Client connecté : 127.0.0.1:PORT\n" +
        "Reçu : abcdefg!\n" +
        "Déconnecté\n",
    );
    assert.equal((await nc.finished()).code, 0);
  },
);

Deno.test("udp_server.js, alone in a folder, receives udp_client.ts's datagram; it names --unstable-net when left out", async () => {
  await using folder = await alone("udp_server.ts");
  await using server = runBundle(folder.dir, "udp_server.ts", ["--port", "0"]);
  const [, port] = await server.waitFor(/ port (\d+)\.\.\.\n/);
  const client = await program("udp_client.ts", ["--port", port]).finished();
  assert.equal(client.stdout, `Message envoyé à 127.0.0.1:${port} (8 octets)\n`);
  await server.waitFor(/\] Message reçu: Salut !\n/);
  server.kill("SIGINT");
  const { code, stdout, stderr } = await server.finished();
  assert.equal(code, 0, stderr);
  assert.equal(
    stdout.replace(/:\d+\]/g, ":PORT]"),
    `Attente de messages UDP sur le port ${port}...\n` +
      "[127.0.0.1:PORT] Message reçu: Salut !\n" +
      "Fin du programme\n",
  );

  // Without --unstable-net (no deno.json here to turn it on): one line, exit code 3.
  const bare = await new Running("env", [
    "-C",
    folder.dir,
    "deno",
    "run",
    "--allow-net",
    bundleName("udp_server.ts"),
  ]).finished();
  assert.equal(bare.code, 3);
  assert.match(bare.stderr, /^Erreur: les sockets UDP de Deno demandent --unstable-net\./);
});

Deno.test("ex1_tcp_client.js, alone in a folder, talks with ex1_tcp_server.ts", async () => {
  await using folder = await alone("exercises/ex1_tcp_client.ts");
  const { server, port } = await startServer("exercises/ex1_tcp_server.ts");
  await using _server = server;
  await using client = runBundle(
    folder.dir,
    "exercises/ex1_tcp_client.ts",
    ["--port", String(port)],
    "piped",
  );
  await client.write("bonjour\n");
  await client.waitFor(`Serveur: ${REPLY}bonjour\n`);
  await client.write("quit\n");
  const { code, stdout, stderr } = await client.finished();
  assert.equal(stderr, "");
  assert.equal(code, 0);
  // No prompt: stdin is a pipe, not a terminal.
  assert.equal(stdout, `Serveur: ${REPLY}bonjour\nFin de la conversation\n`);
  assert.equal((await server.finished()).code, 0);
});

globalThis.addEventListener("unload", () => Deno.removeSync(built, { recursive: true }));
