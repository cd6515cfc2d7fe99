import assert from "node:assert/strict";
/**
 * layout_test.ts -- the shape of the project that the README promises: the
 * lessons at the top level, their shared code in lib/ with no import cycle.
 *
 * @module
 */
import { ROOT } from "./helpers.ts";

const LESSONS = [
  "udp_client.ts",
  "udp_server.ts",
  "tcp_client.ts",
  "tcp_server.ts",
  "exercises/ex1_tcp_server.ts",
  "exercises/ex1_tcp_client.ts",
  "exercises/ex2_udp_server.ts",
  "exercises/ex2_udp_client.ts",
];

/** The local module graph of `file`, from `deno info --json`: module path → its local imports. */
async function moduleGraph(file: string): Promise<Map<string, string[]>> {
  const { success, stdout, stderr } = await new Deno.Command("deno", {
    args: ["info", "--json", file],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: { specifier: string; dependencies?: { code?: { specifier: string } }[] }[];
  };
  const graph = new Map<string, string[]>();
  const local = (specifier: string) => specifier.startsWith("file://");
  const path = (specifier: string) => new URL(specifier).pathname.slice(ROOT.length);
  for (const module of info.modules.filter((m) => local(m.specifier))) {
    const imports = (module.dependencies ?? [])
      .map((d) => d.code?.specifier)
      .filter((s): s is string => s !== undefined && local(s))
      .map(path);
    graph.set(path(module.specifier), imports);
  }
  return graph;
}

/** A cycle in `graph`, as a list of modules, or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "visiting") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

Deno.test("findCycle() finds a cycle, and only a cycle", () => {
  assert.deepEqual(findCycle(new Map([["a", ["b"]], ["b", ["a"]]])), ["a", "b", "a"]);
  assert.equal(findCycle(new Map([["a", ["b", "c"]], ["b", ["c"]], ["c", []]])), null);
});

Deno.test("no lesson's module graph has an import cycle, and lessons import only lib/", async () => {
  for (const lesson of LESSONS) {
    const graph = await moduleGraph(lesson);
    assert.equal(findCycle(graph), null, `${lesson}: ${findCycle(graph)?.join(" → ")}`);
    for (const module of graph.get(lesson)!) assert.match(module, /^lib\//, lesson);
    for (const [module, imports] of graph) {
      if (module.startsWith("lib/")) {
        for (const imported of imports) assert.match(imported, /^lib\//, module);
      }
    }
  }
});

Deno.test("the top level holds the lessons, the course, the project files and the folders", async () => {
  const { stdout } = await new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  const top = new Set(
    new TextDecoder().decode(stdout).split("\n").filter((f) => f !== "").map((f) =>
      f.includes("/") ? f.slice(0, f.indexOf("/") + 1) : f
    ),
  );
  const allowed = new Set([
    ...LESSONS.filter((f) => !f.includes("/")),
    "exercises/",
    "lib/",
    "tests/",
    "bench/",
    "scripts/",
    ".ci/",
    "deno.json",
    "README.md",
    "ATELIER.md",
    ".gitignore",
  ]);
  assert.deepEqual([...top].filter((entry) => !allowed.has(entry)), []);
});
