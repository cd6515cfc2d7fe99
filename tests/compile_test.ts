/**
 * compile_test.ts -- `deno task compile` (scripts/compile.ts).
 *
 * `deno compile` type-checks and bundles each program, then copies a runtime,
 * `denort`, that it downloads from Deno's servers. Where that runtime cannot
 * be had, DENORT_BIN points to a stand-in (/bin/true): the first tests still
 * prove that every program's module graph checks and bundles under the task's
 * exact command lines. Where no runtime can be downloaded (forced with an empty
 * cache and a dead proxy), the task must say so in one French line and offer
 * the ways out. The last test needs a real runtime, and is ignored
 * (with the reason) where there is none: it runs each binary against its
 * `deno run` counterpart.
 */
import assert from "node:assert/strict";
import {
  binaryName,
  compileArgs,
  missingRuntime,
  noRuntimeLine,
  PROGRAMS,
} from "../scripts/compile.ts";
import { closedPort, ROOT, Running, UDP_TIMEOUT } from "./helpers.ts";

/** The runtime to build with: DENORT_BIN if set, else a stand-in that only lets compile finish. */
const STAND_IN = "/bin/true";
const runtime = Deno.env.get("DENORT_BIN") ?? STAND_IN;

/** How long a compilation may take before its test fails (a guard, not a timing). */
const COMPILE_GUARD_MS = 180_000;

/** Runs `deno task compile` with these arguments and environment. */
async function compileTask(args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command("deno", {
    args: ["task", "compile", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    signal: AbortSignal.timeout(COMPILE_GUARD_MS),
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("compileArgs() gives each program --allow-net, --unstable-net only for UDP, and nothing more", () => {
  for (const { file, udp } of PROGRAMS) {
    const args = compileArgs(file, "dist");
    const flags = args.filter((a) => a.startsWith("-"));
    assert.deepEqual(
      flags,
      ["--no-config", "--allow-net", ...(udp ? ["--unstable-net"] : []), "--output"],
      file,
    );
    assert.equal(args.at(-1), file);
    assert.equal(args.at(-2), `dist/${binaryName(file)}`);
    assert.equal(udp, /udp/.test(file), "UDP programs are the ones named udp");
  }
  assert.equal(PROGRAMS.length, 8);
  assert.deepEqual(compileArgs("udp_server.ts", "d", "aarch64-apple-darwin").slice(4, 6), [
    "--target",
    "aarch64-apple-darwin",
  ]);
});

Deno.test("deno task compile builds all eight programs: each module graph checks and bundles", async () => {
  const outputDir = await Deno.makeTempDir({ prefix: "socket-kit-dist-" });
  try {
    const { code, stdout, stderr } = await compileTask(["--output-dir", outputDir], {
      DENORT_BIN: runtime,
    });
    assert.equal(code, 0, stderr);
    for (const { file } of PROGRAMS) {
      // The task printed, then ran, exactly the command line compileArgs() gives.
      assert.ok(stdout.includes(`deno ${compileArgs(file, outputDir).join(" ")}\n`), file);
      const binary = `${outputDir}/${binaryName(file)}`;
      assert.ok((await Deno.stat(binary)).isFile, `${binary} was written`);
    }
    // Every program was bundled with the shared modules it imports.
    const embedded = stderr + stdout;
    // deno compile lists the embedded folder as "lib/* (size)" after each program.
    assert.equal(embedded.match(/── lib\/\* \(/g)?.length, PROGRAMS.length, "lib/ embedded");
    assert.match(stdout, /8 binaires dans /);
  } finally {
    await Deno.remove(outputDir, { recursive: true });
  }
});

Deno.test("deno task compile fails when a program does not type-check", async () => {
  // A program with a type error, compiled with the same flags as the real ones.
  const dir = await Deno.makeTempDir({ prefix: "socket-kit-bad-" });
  try {
    await Deno.writeTextFile(`${dir}/bad.ts`, 'const port: number = "8888";\nconsole.log(port);\n');
    const args = compileArgs("tcp_server.ts", dir).slice(0, -1).concat(`${dir}/bad.ts`);
    const { code, stderr } = await new Deno.Command("deno", {
      args,
      cwd: ROOT,
      env: { NO_COLOR: "1", DENORT_BIN: runtime },
      signal: AbortSignal.timeout(COMPILE_GUARD_MS),
    }).output();
    assert.notEqual(code, 0);
    assert.match(new TextDecoder().decode(stderr), /TS2322/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task compile answers a bad argument with its usage and exit code 2", async () => {
  const { code, stderr } = await compileTask(["--bogus"], { DENORT_BIN: runtime });
  assert.equal(code, 2);
  assert.match(stderr, /^Usage : deno task compile \[--target TRIPLE\] \[--output-dir DOSSIER\]$/m);
});

Deno.test("deno task compile with no runtime to download: one line per program, then one French way out", async () => {
  // No runtime here, wherever the test runs: an empty Deno cache (so no denort
  // cached from an earlier build), no DENORT_BIN, and every download sent to a
  // proxy where nothing listens, so it is refused at once.
  const denoDir = await Deno.makeTempDir({ prefix: "socket-kit-deno-dir-" });
  const outputDir = await Deno.makeTempDir({ prefix: "socket-kit-dist-" });
  try {
    const { holder, port } = await closedPort("tcp"); // bound, not listening: refused at once
    await using _holder = holder;
    const proxy = `http://127.0.0.1:${port}`;
    const { code, stdout, stderr } = await new Deno.Command("deno", {
      args: ["task", "compile", "--output-dir", outputDir],
      cwd: ROOT,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: Deno.env.get("HOME") ?? "/root",
        DENO_DIR: denoDir,
        HTTPS_PROXY: proxy,
        HTTP_PROXY: proxy,
        NO_COLOR: "1",
      },
    }).output().then((out) => ({
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    }));
    assert.notEqual(code, 0);
    // One line per program: the first was tried; the others, which need the same runtime, were not.
    const lines = stdout.trimEnd().split("\n");
    assert.deepEqual(
      lines,
      PROGRAMS.map(({ file }, i) =>
        `${i === 0 ? "" : "non lancé : "}deno ${compileArgs(file, outputDir).join(" ")}`
      ),
    );
    // Not Deno's error block: its "Caused by" list and backtrace stay hidden.
    assert.doesNotMatch(stderr, /Caused by|Stack backtrace|error sending request/);
    const last = stderr.trimEnd().split("\n").at(-1)!;
    assert.match(
      last,
      /^Erreur: impossible de télécharger le runtime de Deno, denort \(.*refused.*\) : aucun binaire\. /i,
    );
    assert.ok(last.includes("DENORT_BIN=/chemin/vers/denort deno task compile"), last);
    assert.ok(last.includes("deno task bundle"), last);
    assert.deepEqual([...Deno.readDirSync(outputDir)], [], "no binary, not even a part of one");
  } finally {
    await Deno.remove(denoDir, { recursive: true });
    await Deno.remove(outputDir, { recursive: true });
  }
});

Deno.test("missingRuntime() tells a runtime problem from a program's own error", () => {
  const download =
    "\x1b[1m\x1b[31merror\x1b[0m: Writing deno compile executable to temporary file 'x'\n\n" +
    "Caused by:\n    0: Setting up base binary.\n" +
    "    1: error sending request for url (https://dl.deno.land/release/v2.9.6/" +
    "denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error\n" +
    "    2: failed to lookup address information: Name or service not known\n\n" +
    "Stack backtrace:\n   0: <unknown>\n";
  assert.deepEqual(missingRuntime(download), {
    cause: "failed to lookup address information: Name or service not known",
    local: undefined,
  });
  const local = "error: Writing deno compile executable to temporary file 'x'\n\nCaused by:\n" +
    "    0: Could not find denort at '/opt/denort'\n    1: No such file or directory (os error 2)\n";
  const problem = missingRuntime(local);
  assert.deepEqual(problem, {
    cause: "No such file or directory (os error 2)",
    local: "/opt/denort",
  });
  assert.match(
    noRuntimeLine(problem!),
    /^Erreur: DENORT_BIN=\/opt\/denort ne mène à aucun runtime/,
  );
  const typeError = "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.\n" +
    "error: Type checking failed.\n";
  assert.equal(missingRuntime(typeError), null);
});

/**
 * Whether a real runtime is at hand: DENORT_BIN, or Deno's download. Compiles
 * a one-line probe and runs it. Returns null if it works, else the reason.
 */
async function whyNoRealRuntime(): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "socket-kit-probe-" });
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, 'console.log("denort ok");\n');
    const env: Record<string, string> = { NO_COLOR: "1", RUST_BACKTRACE: "0" };
    const compiled = await new Deno.Command("deno", {
      args: ["compile", "--no-config", "--output", `${dir}/probe`, `${dir}/probe.ts`],
      env,
      signal: AbortSignal.timeout(60_000),
    }).output();
    if (!compiled.success) {
      // The deepest "Caused by" line says what went wrong (e.g. a DNS error).
      const text = new TextDecoder().decode(compiled.stderr);
      const cause = [...text.matchAll(/^\s*\d+: (.*)$/gm)].at(-1)?.[1] ?? text.split("\n")[0];
      return Deno.env.get("DENORT_BIN")
        ? `DENORT_BIN=${Deno.env.get("DENORT_BIN")} did not compile a probe: ${cause}`
        : `DENORT_BIN is not set and denort could not be downloaded: ${cause}`;
    }
    const ran = await new Deno.Command(`${dir}/probe`, {
      signal: AbortSignal.timeout(COMPILE_GUARD_MS),
    }).output();
    if (new TextDecoder().decode(ran.stdout) !== "denort ok\n") {
      return `DENORT_BIN=${Deno.env.get("DENORT_BIN")} is not a real Deno runtime (a stand-in?)`;
    }
    return null;
  } catch (err) {
    return `no real denort runtime: ${(err as Error).message}`;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const noRealRuntime = await whyNoRealRuntime();

/** How to start one side of a scenario: as a script with deno run, or as a binary. */
type Side = "script" | "binary";

/** Starts a program as a script or as its binary. */
const start = (dir: string, side: Side, file: string, args: string[], stdin?: "piped") =>
  side === "script"
    ? new Running("deno", ["run", "--allow-net", file, ...args], { stdin })
    : new Running(`${dir}/${binaryName(file)}`, args, { stdin });
/** Ports change from run to run: take them out of a transcript. */
const portless = (text: string) => text.replace(/\b\d{4,5}\b/g, "PORT");

/**
 * A server and a client talking; returns everything both printed. TCP
 * servers stop by themselves after their one client; UDP servers are
 * stopped with Ctrl+C once `last` was printed.
 */
async function conversation(dir: string, server: Side, client: Side, pair: Pair) {
  const { serverFile, clientFile, input, last, clientArgs = [] } = pair;
  await using s = start(dir, server, serverFile, ["--port", "0"]);
  const [, port] = await s.waitFor(/ port (\d+)\.\.\./);
  await using c = start(dir, client, clientFile, ["--port", port, ...clientArgs], "piped");
  await c.write(input);
  await c.closeStdin();
  const clientResult = await c.finished();
  if (last) {
    await s.waitFor(last);
    s.kill("SIGINT");
  }
  const serverResult = await s.finished();
  return portless(
    `${clientResult.code}\n${clientResult.stdout}${clientResult.stderr}` +
      `${serverResult.code}\n${serverResult.stdout}${serverResult.stderr}`,
  );
}

type Pair = {
  serverFile: string;
  clientFile: string;
  input: string;
  last?: RegExp;
  clientArgs?: string[];
};
const pairs: Pair[] = [
  { serverFile: "tcp_server.ts", clientFile: "tcp_client.ts", input: "a\nb\n" },
  {
    serverFile: "udp_server.ts",
    clientFile: "udp_client.ts",
    input: "",
    last: /Message reçu: Salut !\n/,
  },
  {
    serverFile: "exercises/ex1_tcp_server.ts",
    clientFile: "exercises/ex1_tcp_client.ts",
    input: "a\nb\nquit\n",
  },
  {
    serverFile: "exercises/ex2_udp_server.ts",
    clientFile: "exercises/ex2_udp_client.ts",
    input: "a\nb\nquit\n",
    last: /Reçu : quit\n/,
    clientArgs: ["--timeout", UDP_TIMEOUT],
  },
];

Deno.test({
  name: "each compiled binary behaves like deno run of its script: same flags, output, exit codes" +
    (noRealRuntime ? ` (ignored: ${noRealRuntime})` : ""),
  ignore: noRealRuntime !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "socket-kit-bin-" });
    try {
      const built = await compileTask(["--output-dir", dir], {});
      assert.equal(built.code, 0, built.stderr);

      for (const pair of pairs) {
        const expected = await conversation(dir, "script", "script", pair);
        assert.equal(await conversation(dir, "binary", "script", pair), expected);
        assert.equal(await conversation(dir, "script", "binary", pair), expected);
      }

      // Same usage (but for the Usage line, which names the binary) and same errors.
      for (const { file } of PROGRAMS) {
        for (const args of [["--help"], ["--port", "70000"], ["--nope"]]) {
          const script = await start(dir, "script", file, args).finished();
          const binary = await start(dir, "binary", file, args).finished();
          const name = binaryName(file);
          assert.equal(binary.code, script.code, `${name} ${args.join(" ")}`);
          assert.equal(
            binary.stdout,
            script.stdout.replace(`Usage : deno run --allow-net ${file} `, `Usage : ${name} `),
          );
          assert.equal(
            binary.stderr,
            script.stderr.replace(`voir : deno run --allow-net ${file} `, `voir : ${name} `),
          );
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
