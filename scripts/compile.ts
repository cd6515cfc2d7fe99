/**
 * compile.ts -- `deno task compile`: builds a standalone binary of each of the
 * eight programs with `deno compile`, into dist/.
 *
 *   deno task compile                                  binaries for this machine
 *   deno task compile --target aarch64-apple-darwin    for another platform
 *   DENORT_BIN=/path/to/denort deno task compile       offline, with a local runtime
 *   deno task compile --output-dir /tmp/bin            somewhere else than dist/
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
  for (const { file } of PROGRAMS) {
    const args = compileArgs(file, outputDir, target);
    console.log(`deno ${args.join(" ")}`);
    const { success } = await new Deno.Command(Deno.execPath(), { args }).spawn().status;
    if (!success) failed++;
  }
  if (failed > 0) {
    console.error(`${failed} programme(s) sur ${PROGRAMS.length} non compilé(s).`);
    Deno.exit(1);
  }
  console.log(`${PROGRAMS.length} binaires dans ${outputDir}/`);
}
