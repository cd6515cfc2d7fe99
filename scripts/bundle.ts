/**
 * bundle.ts -- `deno task bundle`: turns each of the eight programs into one
 * self-contained JavaScript file with `deno bundle`, into dist/.
 *
 *   deno task bundle                          dist/tcp_server.js, dist/udp_server.js, ...
 *   deno task bundle --output-dir /tmp/js     somewhere else than dist/
 *
 * A bundle holds the program and the shared modules it imports, and keeps the
 * program's shebang. Copied alone onto any machine with Deno 2, it runs with
 * `deno run --allow-net --unstable-net tcp_server.js` (or `./tcp_server.js`):
 * no project folder, no deno.json, no download. Unlike `deno compile`, it
 * needs no runtime download either, which is why the course uses it for the
 * "two machines" part. (`deno bundle` itself fetches esbuild from npm the
 * first time it runs on a machine, and keeps it in Deno's cache.)
 *
 * @module
 */
import { binaryName, PROGRAMS } from "./compile.ts";

/** The bundle's file name: the script's, without folder, `.ts` becoming `.js`. */
export function bundleName(file: string): string {
  return `${binaryName(file)}.js`;
}

/** The `deno bundle` arguments for one program. */
export function bundleArgs(file: string, outputDir: string): string[] {
  if (!PROGRAMS.some((p) => p.file === file)) throw new Error(`unknown program ${file}`);
  return ["bundle", "--platform", "deno", "--output", `${outputDir}/${bundleName(file)}`, file];
}

/** Deno's colours, which would hide the error's words from a search. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

if (import.meta.main) {
  let outputDir = "dist";
  const args = [...Deno.args];
  while (args.length > 0) {
    const flag = args.shift();
    const value = args.shift();
    if (flag !== "--output-dir" || value === undefined) {
      console.error("Usage : deno task bundle [--output-dir DOSSIER]");
      Deno.exit(2);
    }
    outputDir = value;
  }
  // Run from the project folder, whatever the caller's folder.
  Deno.chdir(new URL("..", import.meta.url));
  await Deno.mkdir(outputDir, { recursive: true });
  for (const { file } of PROGRAMS) {
    // Deno's own lines (an "experimental" warning, timings) are kept for a failure.
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: bundleArgs(file, outputDir),
      stdout: "inherit",
      stderr: "piped",
    }).output();
    if (!success) {
      const text = plain(new TextDecoder().decode(stderr));
      if (/esbuild/.test(text) && /error sending request|Failed loading/.test(text)) {
        console.error(
          "Erreur: deno bundle n'a pas pu télécharger esbuild, son outil de regroupement " +
            "(il lui faut une connexion la première fois, ensuite il est dans le cache de Deno).",
        );
      } else {
        console.error(text.trimEnd());
        console.error(`Erreur: ${file} n'a pas pu être regroupé en un seul fichier.`);
      }
      Deno.exit(1);
    }
    // The shebang is kept: `./tcp_server.js` runs it, once executable.
    const output = `${outputDir}/${bundleName(file)}`;
    if (Deno.build.os !== "windows") await Deno.chmod(output, 0o755);
    console.log(output);
  }
  console.log(
    `${PROGRAMS.length} fichiers dans ${outputDir}/ : copiez-en un sur une machine qui a Deno 2, ` +
      "puis lancez-le avec deno run --allow-net --unstable-net FICHIER.js",
  );
}
