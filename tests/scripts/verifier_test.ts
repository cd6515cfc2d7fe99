/**
 * verifier_test.ts -- scripts/verifier.ts run as a teacher would, on real
 * programs: our own solutions, workshop-style Python, and Python mutants that
 * each make one mistake (tests/fixtures/verifier/).
 *
 * Ports: the verifier restarts the student's program for every check, so its
 * port must stay free for the whole run. A port from the kernel's ephemeral
 * range may be taken at any moment by an outgoing connection of some other
 * program; `quietPort()` picks one below that range, which only a program that
 * binds it on purpose can take. The default port 5000 is only used inside a
 * private network namespace.
 */
import assert from "node:assert/strict";
import { ROOT, Running, testWith } from "../helpers.ts";
import { testTwoHosts } from "../netns.ts";

const VERIFIER = "scripts/verifier.ts";
const FIXTURES = "tests/fixtures/verifier";
/** A verifier's whole run may take a minute on a busy machine; this guard is far above. */
const RUN_GUARD_MS = 300_000;
/**
 * How `deno task verifier` runs it, from the project's folder. `deno task`
 * tells the folder it was typed in with INIT_CWD (set here too if the tests
 * run from a task), and the verifier runs the student's command there: the
 * tests remove it, so that the commands run from the project's folder.
 */
const DENO = ["deno", "run", "--allow-all"];
const DENO_RUN = ["-u", "INIT_CWD", ...DENO];

/** The JSON object of `--json`. */
interface Report {
  exercice: string;
  port: number;
  reussi: boolean;
  requises: { reussies: number; total: number };
  avancees: { reussies: number; total: number };
  verifications: { id: string; niveau: string; resultat: string; explication?: string }[];
}

/** A port below the ephemeral range, free for TCP and UDP right now. */
function quietPort(): number {
  // Deno reads /proc only with --allow-all, which the tests do not have: ask cat.
  const range = new Deno.Command("cat", { args: ["/proc/sys/net/ipv4/ip_local_port_range"] })
    .outputSync();
  const [low] = new TextDecoder().decode(range.stdout).trim().split(/\s+/).map(Number);
  for (let tries = 0; tries < 100; tries++) {
    const port = 20000 + Math.floor(Math.random() * (Math.min(low, 32768) - 20000));
    try {
      Deno.listen({ hostname: "0.0.0.0", port }).close();
      Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port }).close();
      return port;
    } catch {
      // Taken: another.
    }
  }
  throw new Error("no free port below the ephemeral range");
}

/** Waits for a process to end, or fails with its transcript after `ms`. */
async function finishedWithin(process: Running, ms = RUN_GUARD_MS) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      process.kill("SIGKILL");
      reject(new Error(`still running after ${ms} ms\n${process.transcript()}`));
    }, ms);
  });
  try {
    return await Promise.race([process.finished(ms), guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the verifier on `command(port)` with a quiet port; `--json` unless `text`. */
async function verify(
  exercise: string,
  command: (port: number) => string[],
  { text = false } = {},
) {
  // Exit code 3 means that someone took the port meanwhile: take another.
  for (let attempt = 1;; attempt++) {
    const port = quietPort();
    const args = [VERIFIER, exercise, "--port", String(port), ...(text ? [] : ["--json"])];
    const run = new Running("env", [...DENO_RUN, ...args, "--", ...command(port)]);
    const result = await finishedWithin(run);
    if (result.code === 3 && attempt < 3) continue;
    let report: Report | null = null;
    if (!text) {
      try {
        report = JSON.parse(result.stdout);
      } catch {
        throw new Error(`no JSON report\n${run.transcript()}`);
      }
    }
    return { ...result, port, report, transcript: run.transcript() };
  }
}

/** The ids of the checks that did not pass, in order. */
function failed(report: Report | null): string[] {
  return report!.verifications.filter((v) => v.resultat !== "reussie").map((v) => v.id);
}

/** A Python fixture, given the port. */
function python(file: string, ...args: string[]): (port: number) => string[] {
  return (port) => ["python3", `${FIXTURES}/${file}`, String(port), ...args];
}

/** One of our solutions, given the port. */
function ours(file: string): (port: number) => string[] {
  return (port) => ["deno", "run", "--allow-net", `exercises/${file}`, "--port", String(port)];
}

// Our own solutions pass every check, required and advanced.
for (
  const [exercise, file] of [
    ["ex1-serveur", "ex1_tcp_server.ts"],
    ["ex1-client", "ex1_tcp_client.ts"],
    ["ex2-serveur", "ex2_udp_server.ts"],
    ["ex2-client", "ex2_udp_client.ts"],
  ]
) {
  Deno.test(`verifier ${exercise} passes exercises/${file} on every check`, async () => {
    const { code, report, transcript } = await verify(exercise, ours(file));
    assert.deepEqual(failed(report), [], transcript);
    assert.equal(code, 0, transcript);
    assert.equal(report!.reussi, true);
  });
}

// Workshop-style Python (one recv(1024) is one message): every required check
// passes, and exactly the advanced checks that a real network breaks fail.
for (
  const [exercise, file, advancedFailures] of [
    ["ex1-serveur", "ex1_server_course.py", ["deux-en-un", "coupe", "long"]],
    ["ex1-client", "ex1_client_course.py", ["coupe", "long"]],
    ["ex2-serveur", "ex2_server_course.py", ["gros"]],
    ["ex2-client", "ex2_client_course.py", ["perte", "intrus", "gros"]],
  ] as const
) {
  testWith(
    ["python3"],
    `verifier ${exercise} passes the workshop-style ${file} on every required check, fails ${
      advancedFailures.join(", ")
    }`,
    async () => {
      const { code, report, transcript } = await verify(exercise, python(file));
      assert.deepEqual(failed(report), advancedFailures, transcript);
      assert.equal(code, 0, transcript);
      const levels = report!.verifications.filter((v) => v.resultat !== "reussie")
        .map((v) => v.niveau);
      assert.ok(levels.every((level) => level === "avance"), transcript);
    },
  );
}

// Careful Python, the base of the mutants, passes everything.
for (
  const [exercise, file] of [
    ["ex1-serveur", "ex1_server_careful.py"],
    ["ex1-client", "ex1_client_careful.py"],
    ["ex2-client", "ex2_client_careful.py"],
  ]
) {
  testWith(
    ["python3"],
    `verifier ${exercise} passes the careful ${file} on every check`,
    async () => {
      const { code, report, transcript } = await verify(exercise, python(file));
      assert.deepEqual(failed(report), [], transcript);
      assert.equal(code, 0, transcript);
    },
  );
}

// Each mutant makes one mistake: exactly one check fails, and says why.
for (
  const [exercise, file, bug, check, sentence] of [
    [
      "ex1-serveur",
      "ex1_server_careful.py",
      "phrase",
      "phrase",
      /^votre serveur a répondu « Bonjour client, j'ai reçu ton message : bonjour » à « bonjour », envoyé sans \\n comme le fait le client de l'atelier, au lieu de « Bonjour client, j'ai bien reçu ton message : bonjour » : la phrase doit être exactement celle de l'énoncé/,
    ],
    [
      "ex1-serveur",
      "ex1_server_careful.py",
      "jamais-ferme",
      "quit",
      /^votre serveur n'a pas fermé la connexion dans les 5 s qui ont suivi « quit » .* appelez conn\.close\(\)$/,
    ],
    [
      "ex1-serveur",
      "ex1_server_careful.py",
      "utf8",
      "coupe",
      /^votre serveur s'est arrêté sur une erreur \(code 1 : « UnicodeDecodeError: .*»\) quand « café crème » est arrivé en deux morceaux, coupé au milieu du « é »/,
    ],
    [
      "ex1-client",
      "ex1_client_careful.py",
      "quit",
      "quit",
      /^votre client tourne encore 5 s après « quit » : après avoir envoyé quit, sortez de la boucle/,
    ],
    [
      "ex1-client",
      "ex1_client_careful.py",
      "affichage",
      "affichage",
      /^votre client n'a pas affiché « Serveur: Bonjour client, j'ai bien reçu ton message : bonjour » ; il a affiché « Réponse : Bonjour client, j'ai bien reçu ton message : bonjour »/,
    ],
    [
      "ex2-client",
      "ex2_client_careful.py",
      "sans-delai",
      "perte",
      /^votre client attend encore, 10 s plus tard, une réponse qui ne viendra pas : en UDP un datagramme peut se perdre/,
    ],
  ] as const
) {
  testWith(
    ["python3"],
    `verifier ${exercise} fails ${file} --bug ${bug} on ${check} alone`,
    async () => {
      const { code, report, transcript } = await verify(exercise, python(file, "--bug", bug));
      assert.deepEqual(failed(report), [check], transcript);
      const result = report!.verifications.find((v) => v.id === check)!;
      assert.match(result.explication!, sentence, transcript);
      assert.equal(code, result.niveau === "requis" ? 1 : 0, transcript);
    },
  );
}

testWith(["python3"], "verifier prints one French line per check and the summary", async () => {
  const file = `${FIXTURES}/ex1_server_careful.py`;
  const { code, stdout, port, transcript } = await verify(
    "ex1-serveur",
    (port) => ["python3", file, String(port), "--bug", "jamais-ferme"],
    { text: true },
  );
  assert.equal(code, 1, transcript);
  assert.equal(
    stdout,
    `Vérification : exercice 1, serveur TCP, port ${port}
Programme : python3 ${file} ${port} --bug jamais-ferme
(le vérificateur joue le client, et relance votre programme pour chaque vérification)

Vérifications requises :
✓ écoute sur le port ${port}
✓ répond exactement « Bonjour client, j'ai bien reçu ton message : bonjour »
✓ répond aussi à « bonjour\\n », terminé par un retour à la ligne (comme nc)
✓ répond à plusieurs messages sur la même connexion
✓ garde les accents (UTF-8)
✗ « quit » termine la conversation : le serveur ferme la connexion : votre serveur n'a pas fermé la connexion dans les 5 s qui ont suivi « quit » (le client attend que recv() renvoie 0 octet) : après quit, sortez de la boucle et appelez conn.close()
✓ survit au départ d'un client qui n'a pas dit quit

Vérifications avancées :
✓ deux messages arrivés dans un seul segment
✓ un message arrivé en deux segments, coupé au milieu d'un « é »
✓ une ligne de plus de 1024 octets

6/7 vérifications requises réussies, 3 avancées
`,
  );
});

testWith(
  ["python3"],
  "verifier skips the other checks, with the reason, when nothing listens",
  async () => {
    // The client fixture listens on nothing: as a "server", it never accepts a connection.
    const { code, report, transcript } = await verify(
      "ex1-serveur",
      python("ex1_client_course.py"),
    );
    assert.equal(code, 1, transcript);
    const [listens, ...others] = report!.verifications;
    assert.equal(listens.resultat, "echouee");
    assert.match(
      listens.explication!,
      /^votre programme s'est arrêté avant d'écouter sur le port \d+ \(code 1\) : /,
    );
    for (const other of others) {
      assert.equal(other.resultat, "non-verifiee");
      assert.equal(
        other.explication,
        "non vérifiée, car « écoute sur le port " + report!.port + " » a échoué",
      );
    }
  },
);

testWith(
  ["python3"],
  "verifier ends a server that ignores SIGTERM and hangs, with its child, and frees its port",
  async () => {
    const pidFile = await Deno.makeTempFile();
    try {
      const { code, port, report, transcript } = await verify(
        "ex1-serveur",
        python("stubborn_server.py", pidFile),
      );
      // It answers like the workshop's server, but hangs where it should end.
      assert.deepEqual(failed(report), ["depart", "deux-en-un", "coupe", "long"], transcript);
      assert.equal(code, 1);
      const pids = (await Deno.readTextFile(pidFile)).trim().split(/\s+/).map(Number);
      // Each check started it (a split message may be tried again), and it forked a child.
      assert.ok(pids.length >= 2 * report!.verifications.length, transcript);
      for (const pid of pids) assert.ok(!alive(pid), `process ${pid} still runs`);
      assertPortFree(port);
    } finally {
      await Deno.remove(pidFile);
    }
  },
);

testWith(
  ["python3"],
  "verifier interrupted by Ctrl+C ends the program it was checking",
  async () => {
    const pidFile = await Deno.makeTempFile();
    try {
      const port = quietPort();
      const args = [VERIFIER, "ex1-serveur", "--port", String(port), "--"];
      await using verifier = new Running("env", [
        ...DENO_RUN,
        ...args,
        ...python("stubborn_server.py", pidFile)(port),
      ]);
      // The second check's program is running once its pids are written.
      await verifier.waitFor("✓ écoute sur le port");
      await waitUntil(
        async () => (await Deno.readTextFile(pidFile)).trim().split("\n").length >= 2,
        verifier,
      );
      verifier.kill("SIGINT");
      const { code } = await finishedWithin(verifier);
      assert.equal(code, 130, verifier.transcript());
      const pids = (await Deno.readTextFile(pidFile)).trim().split(/\s+/).map(Number);
      for (const pid of pids) assert.ok(!alive(pid), `process ${pid} still runs`);
      assertPortFree(port);
    } finally {
      await Deno.remove(pidFile);
    }
  },
);

testWith(
  ["python3"],
  "verifier runs the command in the folder where deno task was typed (INIT_CWD)",
  async () => {
    const port = quietPort();
    const run = new Running("env", [
      `INIT_CWD=${ROOT}${FIXTURES}`,
      ...DENO,
      VERIFIER,
      "ex2-serveur",
      "--port",
      String(port),
      "--json",
      "--",
      "python3",
      "ex2_server_course.py", // relative to INIT_CWD
      String(port),
    ]);
    const { code } = await finishedWithin(run);
    assert.deepEqual(failed(JSON.parse(run.stdout)), ["gros"], run.transcript());
    assert.equal(code, 0);
  },
);

testWith(["python3"], "verifier refuses a port already taken, with exit code 3", async () => {
  const port = quietPort();
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const run = new Running("env", [
      ...DENO_RUN,
      VERIFIER,
      "ex1-serveur",
      "--port",
      String(port),
      "--",
      ...python("ex1_server_course.py")(port),
    ]);
    const { code, stdout, stderr } = await finishedWithin(run);
    assert.equal(code, 3);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `Erreur: un programme écoute déjà sur le port ${port} (votre serveur, lancé dans un autre ` +
        `terminal ?) : arrêtez-le, ou choisissez un autre port avec --port ; le vérificateur ` +
        `lance lui-même votre programme\n`,
    );
  } finally {
    listener.close();
  }
});

for (
  const [args, error] of [
    [
      [] as string[],
      "il manque l'exercice (ex1-serveur, ex1-client, ex2-serveur, ex2-client) et la commande",
    ],
    [["ex3", "--", "x"], "exercice inconnu « ex3 » : choisissez parmi ex1-serveur"],
    [["ex1-serveur"], "il manque la commande qui lance votre programme, après --"],
    [["ex1-serveur", "python3", "x.py"], "argument en trop « python3 » : la commande"],
    [
      ["ex1-serveur", "--port", "0", "--", "x"],
      "port invalide « 0 » : donnez un nombre de 1 à 65535",
    ],
    [["ex1-serveur", "--port"], "il manque le numéro de port après --port"],
    [
      ["ex1-serveur", "--vite", "--", "x"],
      "option inconnue « --vite » : les options sont --port N et --json",
    ],
    [
      ["ex1-serveur", "--port", "1", "--", "no-such-command-here"],
      "commande introuvable : « no-such-command-here »",
    ],
  ] as [string[], string][]
) {
  Deno.test(`verifier ${args.join(" ") || "(no arguments)"} is a bad command line: exit 2, one line`, async () => {
    const { code, stdout, stderr } = await finishedWithin(
      new Running("env", [...DENO_RUN, VERIFIER, ...args]),
    );
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.ok(stderr.startsWith(`Erreur: ${error}`), stderr);
    assert.equal(stderr.split("\n").length, 2, stderr); // one line, no stack trace
  });
}

Deno.test("verifier --help prints the usage and exits 0", async () => {
  const { code, stdout } = await finishedWithin(
    new Running("env", [...DENO_RUN, VERIFIER, "--help"]),
  );
  assert.equal(code, 0);
  assert.match(stdout, /^Usage : deno task verifier <exercice> \[--port N\] \[--json\] -- /);
});

testTwoHosts("verifier checks the workshop's port 5000 by default", async (hosts) => {
  // A private network namespace: port 5000 is free there, whatever this machine runs.
  const run = hosts.start("server", "env", [
    ...DENO_RUN,
    VERIFIER,
    "ex1-serveur",
    "--json",
    "--",
    "python3",
    `${FIXTURES}/ex1_server_course.py`,
  ]);
  const { code } = await finishedWithin(run);
  const report: Report = JSON.parse(run.stdout);
  assert.equal(report.port, 5000);
  assert.equal(report.verifications[0].id, "ecoute");
  assert.deepEqual(failed(report), ["deux-en-un", "coupe", "long"], run.transcript());
  assert.equal(code, 0);
});

/** Whether a process runs (a zombie, dead and holding nothing, does not count). */
function alive(pid: number): boolean {
  const { stdout } = new Deno.Command("ps", { args: ["-o", "stat=", "-p", String(pid)] })
    .outputSync();
  const state = new TextDecoder().decode(stdout).trim();
  return state !== "" && !state.startsWith("Z");
}

/** Fails unless `port` can be bound at once, for TCP on every interface. */
function assertPortFree(port: number): void {
  Deno.listen({ hostname: "0.0.0.0", port }).close();
}

/** Polls `ready` until it holds; fails with the process's transcript after the guard. */
async function waitUntil(ready: () => Promise<boolean>, process: Running): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!await ready().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`condition not met\n${process.transcript()}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // poll interval, not a wait for readiness
  }
}
