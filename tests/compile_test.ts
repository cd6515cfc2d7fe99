/**
 * compile_test.ts -- `deno task compile` (scripts/compile.ts).
 *
 * `deno compile` type-checks and bundles each program, then copies a runtime,
 * `denort`, that it downloads from Deno's servers. Where that runtime cannot
 * be had, DENORT_BIN points to a stand-in (/bin/true): the first tests still
 * prove that every program's module graph checks and bundles under the task's
 * exact command lines. The last test needs a real runtime, and is ignored
 * (with the reason) where there is none: it runs each binary against its
 * `deno run` counterpart.
 */
import assert from "node:assert/strict";
import { binaryName, compileArgs, PROGRAMS } from "../scripts/compile.ts";
import { ROOT, Running, UDP_TIMEOUT } from "./helpers.ts";

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
    for (const module of ["flags.ts", "errors.ts", "terminal.ts", "lines.ts"]) {
      assert.match(embedded, new RegExp(`── ${module.replace(".", "\\.")} \\(`), module);
    }
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
          assert.equal(binary.stderr, script.stderr.replace(`voir ${file} `, `voir ${name} `));
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
