/**
 * compile.ts -- `deno task compile`: builds a standalone binary of each of the
 * eight programs with `deno compile`, into dist/.
 *
 *   deno task compile                                  binaries for this machine
 *   deno task compile --target aarch64-apple-darwin    for another platform
 *   DENORT_BIN=/path/to/denort deno task compile       offline, with a local runtime
 *   deno task compile --output-dir /tmp/bin            somewhere else than dist/
 *
 * `deno compile` downloads the runtime it embeds, `denort`, from dl.deno.land.
 * When it cannot (no network, or DENORT_BIN points nowhere), the task does not
 * show Deno's error block eight times: it stops trying, says so in one French
 * line, and offers the two ways out (a local runtime, or `deno task bundle`).
 *
 * Each binary gets exactly the permissions its program needs, baked in:
 * `--allow-net`, and `--unstable-net` for the UDP programs. Nothing more, so
 * a binary never prompts and can never do more than its script.
 *
 * @module
 */

/** The eight programs, and whether they use UDP (and so need `--unstable-net`). */
export const PROGRAMS: { file: string; udp: boolean }[] = [
  { file: "udp_client.ts", udp: true },
  { file: "udp_server.ts", udp: true },
  { file: "tcp_client.ts", udp: false },
  { file: "tcp_server.ts", udp: false },
  { file: "exercises/ex1_tcp_server.ts", udp: false },
  { file: "exercises/ex1_tcp_client.ts", udp: false },
  { file: "exercises/ex2_udp_server.ts", udp: true },
  { file: "exercises/ex2_udp_client.ts", udp: true },
];

/** The binary's name: the script's, without folder and `.ts` (`dist/ex1_tcp_server`). */
export function binaryName(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.ts$/, "");
}

/**
 * The `deno compile` arguments for one program. `--no-config` keeps deno.json
 * (which turns on `--unstable-net` for every script) out of the binary: each
 * one gets only the flags listed here.
 */
export function compileArgs(file: string, outputDir: string, target?: string): string[] {
  const udp = PROGRAMS.find((p) => p.file === file)?.udp;
  if (udp === undefined) throw new Error(`unknown program ${file}`);
  return [
    "compile",
    "--no-config",
    "--allow-net",
    ...(udp ? ["--unstable-net"] : []),
    ...(target ? ["--target", target] : []),
    "--output",
    `${outputDir}/${binaryName(file)}`,
    file,
  ];
}

/**
 * Why `deno compile` found no runtime to embed, from its error output: the
 * deepest cause Deno gives (e.g. a DNS or connection error), or null when the
 * failure is something else (a type error in the program, a full disk...).
 */
export function missingRuntime(stderr: string): MissingRuntime | null {
  // deno-lint-ignore no-control-regex
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const local = text.match(/Could not find denort at '(.*)'/)?.[1];
  if (local === undefined && !/Setting up base binary|denort-[\w-]+\.zip/.test(text)) return null;
  // "Caused by:" lists the causes, outermost first ("0: ...", "1: ..."): keep the last.
  // (A "Stack backtrace:" may follow, numbered the same way: it is not a cause.)
  const causes = [...text.split("Stack backtrace:")[0].matchAll(/^\s*\d+: (.*)$/gm)].map((m) =>
    m[1]
  );
  return { cause: causes.at(-1) ?? text.trim().split("\n")[0], local };
}

/** Why no runtime: the deepest cause, and DENORT_BIN's path when that was the one missing. */
export interface MissingRuntime {
  cause: string;
  local?: string;
}

/** The French line that ends the task when no runtime could be had, with the ways out. */
export function noRuntimeLine(problem: MissingRuntime): string {
  const what = problem.local !== undefined
    ? `DENORT_BIN=${problem.local} ne mène à aucun runtime denort (${problem.cause})`
    : `impossible de télécharger le runtime de Deno, denort (${problem.cause})`;
  return `Erreur: ${what} : aucun binaire. Solutions : DENORT_BIN=/chemin/vers/denort ` +
    "deno task compile (un denort de la même version que deno), ou deno task bundle " +
    "(des fichiers .js pour deno run).";
}

if (import.meta.main) {
  let outputDir = "dist";
  let target: string | undefined;
  const args = [...Deno.args];
  while (args.length > 0) {
    const flag = args.shift();
    const value = args.shift();
    if (value === undefined || (flag !== "--target" && flag !== "--output-dir")) {
      console.error(
        "Usage : deno task compile [--target TRIPLE] [--output-dir DOSSIER]\n" +
          "(cibles : deno compile --help, option --target)",
      );
      Deno.exit(2);
    }
    if (flag === "--target") target = value;
    else outputDir = value;
  }
  // Run from the project folder, whatever the caller's folder.
  Deno.chdir(new URL("..", import.meta.url));
  let failed = 0;
  let noRuntime: MissingRuntime | null = null;
  for (const { file } of PROGRAMS) {
    const args = compileArgs(file, outputDir, target);
    if (noRuntime) {
      // The same runtime serves every program: trying again would fail the same way.
      console.log(`non lancé : deno ${args.join(" ")}`);
      failed++;
      continue;
    }
    console.log(`deno ${args.join(" ")}`);
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args,
      stdout: "inherit",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    if (!success) {
      failed++;
      noRuntime = missingRuntime(text);
      if (noRuntime) continue;
    }
    // Deno's own lines: progress and the embedded files, or the reason it failed.
    Deno.stderr.writeSync(stderr);
  }
  if (noRuntime) {
    console.error(noRuntimeLine(noRuntime));
    Deno.exit(1);
  }
  if (failed > 0) {
    console.error(`${failed} programme(s) sur ${PROGRAMS.length} non compilé(s).`);
    Deno.exit(1);
  }
  console.log(`${PROGRAMS.length} binaires dans ${outputDir}/`);
}
