/**
 * program.ts -- how the user starts the running program, for hints such as
 * "Lancez : deno run --allow-net ex1_tcp_server.ts".
 *
 * A leaf module: it imports nothing.
 *
 * @module
 */

/**
 * The script's path as the user would type it from the current folder
 * (`ex1_tcp_server.ts` from `exercises/`, `exercises/ex1_tcp_server.ts` from
 * the project folder), or, in a binary made by `deno compile`, the binary's name.
 */
export function scriptPath(): string {
  if (Deno.build.standalone) return Deno.execPath().replace(/^.*[\\/]/, "");
  const url = new URL(Deno.mainModule);
  if (url.protocol !== "file:") return url.href;
  const file = decodeURIComponent(url.pathname).split("/");
  const here = Deno.cwd().split(/[\\/]/).filter((part) => part !== "");
  const there = file.filter((part) => part !== "");
  let same = 0;
  while (same < here.length && same < there.length - 1 && here[same] === there[same]) same++;
  const up = here.length - same;
  // Far above the script, its absolute path is clearer than a row of "../".
  if (up > 2) return decodeURIComponent(url.pathname);
  return [...Array(up).fill(".."), ...there.slice(same)].join("/");
}

/**
 * The command that runs this program with `extra` after it:
 * `deno run --allow-net tcp_server.ts --help`, or `tcp_server --help` for a binary.
 * `unstableNet` adds the flag that UDP programs need outside the project folder.
 */
export function runCommand(extra = "", unstableNet = false): string {
  const tail = extra === "" ? "" : ` ${extra}`;
  if (Deno.build.standalone) return `${scriptPath()}${tail}`;
  return `deno run --allow-net${unstableNet ? " --unstable-net" : ""} ${scriptPath()}${tail}`;
}
