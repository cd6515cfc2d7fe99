import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import { type FlagSpec, parseFlags, splitArgs } from "../../lib/flags.ts";
import { ROOT, runProgram } from "../helpers.ts";

const server: FlagSpec<"host" | "port" | "keepOpen"> = {
  transport: "tcp",
  purpose: "serveur de test.",
  role: "server",
  defaults: { host: "0.0.0.0", port: 8888, keepOpen: false },
  example: "nc 127.0.0.1 8888",
};
const client: FlagSpec<"host" | "port" | "message" | "timeout"> = {
  transport: "tcp",
  purpose: "client de test.",
  role: "client",
  defaults: { host: "127.0.0.1", port: 8888, message: "abcdefg!\n", timeout: 2 },
  example: "nc -l 8888",
};
const udp: FlagSpec<"port" | "bufferSize"> = {
  ...server,
  transport: "udp",
  defaults: { port: 8888, bufferSize: 1024 },
};
const udpClient: FlagSpec<"host" | "port" | "message"> = {
  ...client,
  transport: "udp",
  defaults: { host: "127.0.0.1", port: 8888, message: "Salut !\n" },
};

/** The error text of a rejected command line (and checks it is exit code 2). */
function rejected<K extends "host" | "port" | "message" | "timeout" | "keepOpen" | "bufferSize">(
  args: string[],
  spec: FlagSpec<K>,
): string {
  const result = parseFlags(args, spec);
  assert.equal(result.ok, false, `accepted ${args.join(" ")}`);
  if (result.ok) throw new Error("unreachable");
  assert.equal(result.code, 2);
  assert.doesNotMatch(result.text, /\n/, "one line only");
  // The hint is a command that runs as typed, from the folder the test runs in.
  assert.match(result.text, / \(voir : deno run --allow-net \S+\.ts --help\)$/);
  return result.text;
}

Deno.test("parseFlags() gives the workshop's defaults when no flag is given", () => {
  const result = parseFlags([], server);
  assert.ok(result.ok);
  assert.deepEqual(result.flags, { host: "0.0.0.0", port: 8888, keepOpen: false });
  assert.equal(result.given.size, 0);
});

Deno.test("parseFlags() reads --host, --port, -k and --keep-open, and says which were given", () => {
  for (const k of ["-k", "--keep-open"]) {
    const result = parseFlags(["--host", "::1", "--port=5000", k], server);
    assert.ok(result.ok);
    assert.deepEqual(result.flags, { host: "::1", port: 5000, keepOpen: true });
    assert.deepEqual([...result.given].sort(), ["host", "keepOpen", "port"]);
  }
});

Deno.test("parseFlags() rejects port 70000", () => {
  assert.match(rejected(["--port", "70000"], server), /port invalide « 70000 » .* de 0 à 65535/);
});

Deno.test("parseFlags() rejects ports that are not whole numbers", () => {
  for (const port of ["abc", "80.5", "1e3", "0x50", " 80", "-1", ""]) {
    assert.match(rejected([`--port=${port}`], server), /port invalide|attend une valeur/);
  }
});

Deno.test("parseFlags() takes 1 to 5 ASCII digits as a port, leading zeros included", () => {
  const result = parseFlags(["--port", "00080"], server);
  assert.ok(result.ok);
  assert.equal(result.flags.port, 80);
  // Six digits, and digits of other scripts (fullwidth, Arabic-Indic), are not a port.
  for (const port of ["000080", "\uff18\uff10", "\u0668\u0660"]) {
    assert.match(rejected(["--port", port], server), /port invalide/);
  }
});

Deno.test("parseFlags() lets servers take port 0 but not clients", () => {
  const result = parseFlags(["--port", "0"], server);
  assert.ok(result.ok);
  assert.equal(result.flags.port, 0);
  assert.match(
    rejected(["--port", "0"], client),
    /port invalide « 0 » : attendu un entier de 1 à 65535/,
  );
});

Deno.test("parseFlags() rejects an unknown flag, naming it", () => {
  assert.match(rejected(["--bogus"], server), /^Erreur: option inconnue --bogus/);
  assert.match(rejected(["-x"], server), /^Erreur: option inconnue -x/);
  assert.match(rejected(["--message", "hi"], server), /option inconnue --message/);
});

Deno.test("parseFlags() rejects a flag with its value missing", () => {
  assert.match(rejected(["--port"], server), /l'option --port attend une valeur PORT/);
  assert.match(rejected(["--port", "--host", "x"], server), /--port attend une valeur/);
  assert.match(rejected(["--message"], client), /--message attend une valeur TEXTE/);
});

Deno.test("parseFlags() takes a value that starts with a dash only after =", () => {
  const result = parseFlags(["--message=-x"], client);
  assert.ok(result.ok);
  assert.equal(result.flags.message, "-x");
});

Deno.test("parseFlags() rejects a value given to a switch", () => {
  assert.match(rejected(["--keep-open=yes"], server), /--keep-open ne prend pas de valeur/);
});

Deno.test("parseFlags() rejects unexpected positionals", () => {
  assert.match(rejected(["8888"], server), /argument inattendu « 8888 »/);
  assert.match(rejected(["--", "x"], server), /argument inattendu « x »/);
});

Deno.test("parseFlags() rejects a bad --buffer-size", () => {
  for (const size of ["0", "70000", "-5", "big", "1.5"]) {
    assert.match(
      rejected([`--buffer-size=${size}`], udp),
      /taille de tampon invalide .* de 1 à 65536 octets|attend une valeur/,
    );
  }
  const result = parseFlags(["--buffer-size", "65536"], udp);
  assert.ok(result.ok);
  assert.equal(result.flags.bufferSize, 65536);
});

Deno.test("parseFlags() rejects a bad --timeout and takes decimals", () => {
  for (const t of ["0", "-1", "abc", "4000", "1,5,5", ",5", "1e3"]) {
    assert.match(
      rejected([`--timeout=${t}`], client),
      /délai (invalide|trop court)|attend une valeur/,
    );
  }
  assert.match(
    rejected(["--timeout", "abc"], client),
    /délai invalide « abc » : attendu un nombre de secondes de 0,1 à 3600 \(par exemple 0,5 ou 2\)/,
  );
  const result = parseFlags(["--timeout", "0.5"], client);
  assert.ok(result.ok);
  assert.equal(result.flags.timeout, 0.5);
});

Deno.test("parseFlags() takes a decimal comma in --timeout, as the programs print it", () => {
  for (
    const [text, seconds] of [["0,5", 0.5], ["2,25", 2.25], ["0,1", 0.1], ["3600", 3600]] as const
  ) {
    const result = parseFlags(["--timeout", text], client);
    assert.ok(result.ok, text);
    assert.equal(result.flags.timeout, seconds);
  }
});

Deno.test("parseFlags() rejects a --timeout under 0.1 s, naming the minimum", () => {
  for (const t of ["0.001", "0,05", "0.099", "0"]) {
    assert.match(
      rejected(["--timeout", t], client),
      new RegExp(`^Erreur: délai trop court « ${t.replace(".", "\\.")} » : 0,1 s au moins, `),
    );
  }
});

Deno.test("parseFlags() rejects an empty --host", () => {
  assert.match(rejected(["--host="], server), /adresse vide pour --host/);
});

Deno.test("parseFlags() takes IP addresses and host names for --host, IPv6 with or without brackets", () => {
  const name = [..."abcd"].map((c) => c.repeat(63)).join("."); // 4 × 63 + 3 = 255 characters
  const longest = name.slice(0, 253);
  const cases: [string, string][] = [
    ["127.0.0.1", "127.0.0.1"],
    ["0.0.0.0", "0.0.0.0"],
    ["::", "::"],
    ["[::]", "::"],
    ["[::1]", "::1"],
    [" [::1] ", "::1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
    ["localhost", "localhost"],
    ["localhost.", "localhost."],
    ["mon-serveur_2.example.org", "mon-serveur_2.example.org"],
    [longest, longest],
  ];
  for (const [value, host] of cases) {
    const result = parseFlags(["--host", value], server);
    assert.ok(result.ok, value);
    assert.equal(result.flags.host, host);
  }
});

Deno.test("parseFlags() rejects an invalid --host, naming the limit it breaks", () => {
  assert.match(
    rejected(["--host", "a".repeat(300)], server),
    /^Erreur: nom d'hôte trop long pour --host \(300 caractères\) : 253 au plus /,
  );
  assert.match(
    rejected(["--host", `${"a".repeat(64)}.fr`], server),
    /^Erreur: nom d'hôte invalide « a{30}… » pour --host : 63 caractères au plus entre deux points/,
  );
  for (const host of ["a b", "\uFFFD", "\xff", "café.fr", "a/b", "[abc]", "a..b", ".a", "a\nb"]) {
    assert.match(
      rejected(["--host", host], client),
      /^Erreur: adresse invalide « .+ » pour --host : attendu une adresse IP \(127\.0\.0\.1, ::1\) ou un nom fait de lettres sans accent, de chiffres, de « - » et de « \. »/,
      JSON.stringify(host),
    );
  }
  for (const host of ["fe80::1%eth0", "[::1", "::1]", "1:2:3:4:5:6:7:8:9", "[[::1]]"]) {
    assert.match(
      rejected(["--host", host], client),
      /^Erreur: adresse IPv6 invalide « .+ » pour --host : attendu par exemple ::1 ou \[::1\]/,
      host,
    );
  }
  assert.match(
    rejected(["--host", "192.168.1.20:5000"], client),
    /^Erreur: l'adresse « 192\.168\.1\.20:5000 » contient un port : donnez-le à part \(--host 192\.168\.1\.20 --port 5000\)/,
  );
});

Deno.test("parseFlags() rejects a UDP --message over 65,507 bytes, counted in UTF-8", () => {
  for (const message of ["a".repeat(65507), "é".repeat(32753)]) {
    const result = parseFlags(["--message", message], udpClient);
    assert.ok(result.ok);
    assert.equal(result.flags.message, message);
  }
  assert.match(
    rejected(["--message", "a".repeat(65508)], udpClient),
    /^Erreur: message trop long pour un datagramme UDP : 65508 octets, 65507 au plus \(un paquet IP de 65535 octets, moins les en-têtes IP et UDP\)/,
  );
  assert.match(
    rejected(["--message", "é".repeat(32754)], udpClient),
    / 65508 octets, 65507 au plus/,
  );
  // TCP is a stream: its messages have no such limit.
  assert.ok(parseFlags(["--message", "a".repeat(70000)], client).ok);
});

Deno.test("parseFlags() answers --help with the usage: purpose, every flag, defaults, example", () => {
  for (const help of ["--help", "-h"]) {
    const result = parseFlags([help], server);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.code, 0);
    // The program is named as typed (here the test file, which is the main module).
    assert.match(result.text, /^\S+\.ts -- serveur de test\./);
    assert.match(result.text, /Usage : deno run --allow-net \S+\.ts \[options\]/);
    assert.match(result.text, /--host ADRESSE +adresse où écouter \(défaut : 0\.0\.0\.0/);
    assert.match(result.text, /--port PORT +port où écouter \(défaut : 8888/);
    assert.match(result.text, /-k, --keep-open +rester ouvert/);
    assert.match(result.text, /-h, --help +afficher cette aide/);
    assert.match(result.text, /Exemple, depuis un autre terminal : nc 127\.0\.0\.1 8888\n$/);
  }
});

Deno.test("splitArgs() cuts a command line as node:util's parseArgs does (non-strict, tokens)", () => {
  // The programs once used parseArgs; splitArgs() replaced it, token for token. Every
  // command line of up to three of these pieces is cut by both, for several sets of options.
  const pieces = [
    ...["", "-", "--", "---", "---x", "=", "x", "5000", "-1", "-5000", "-é", "-😀", "-x", "-xk"],
    ...["-k", "-h", "-kh", "-hk", "-kx", "-kk", "-k5", "-f", "-fFILE", "-kf", "-kfk", "-fk"],
    ...["--port", "--port=5000", "--port=", "--port=-1", "--=x", "--=a=b", "--a=b=c", "--x="],
    ...["--keep-open", "--keep-open=yes", "--help", "--help=x", "--trace", "--trace=1", "--k"],
    ...["--message", "--message=-x", "--constructor", "--toString", "--file", "--file=y"],
  ];
  type Options = Record<string, { type: "string" | "boolean"; short?: string }>;
  const optionSets: Options[] = [
    {
      help: { type: "boolean", short: "h" },
      trace: { type: "boolean" },
      host: { type: "string" },
      port: { type: "string" },
      "keep-open": { type: "boolean", short: "k" },
    },
    {
      help: { type: "boolean", short: "h" },
      trace: { type: "boolean" },
      message: { type: "string" },
      timeout: { type: "string" },
    },
    // A short flag that takes a value, which no program has (yet): -f FILE, -fFILE.
    {
      help: { type: "boolean", short: "h" },
      file: { type: "string", short: "f" },
      "keep-open": { type: "boolean", short: "k" },
    },
  ];
  const lines: string[][] = [[]];
  for (const a of pieces) {
    lines.push([a]);
    for (const b of pieces) {
      lines.push([a, b]);
      for (const c of pieces) lines.push([a, b, c]);
    }
  }
  for (const options of optionSets) {
    const withValue = new Set(
      Object.keys(options).filter((name) => options[name].type === "string"),
    );
    const shorts = new Map(
      Object.entries(options).flatMap(([name, o]) => o.short ? [[o.short, name] as const] : []),
    );
    for (const args of lines) {
      const expected = parseArgs({
        args,
        options,
        strict: false,
        allowPositionals: true,
        tokens: true,
      }).tokens.map((token) => {
        // parseArgs also gives each token's place in args, which splitArgs() does not.
        const { index: _, ...rest } = token;
        return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
      });
      assert.deepEqual(splitArgs(args, withValue, shorts), expected, JSON.stringify(args));
    }
  }
});

Deno.test("parseFlags() reads grouped short flags, repeated flags, and stops at --", () => {
  const grouped = parseFlags(["-kk", "--port", "1", "--port=2"], server);
  assert.ok(grouped.ok);
  assert.deepEqual(grouped.flags, { host: "0.0.0.0", port: 2, keepOpen: true });
  const help = parseFlags(["-kh"], server);
  assert.equal(!help.ok && help.code, 0);
  assert.match(rejected(["-kx"], server), /^Erreur: option inconnue -x /);
  assert.match(rejected(["-xh"], server), /^Erreur: option inconnue -x /);
  assert.match(rejected(["--port", "-1"], server), /--port attend une valeur PORT/);
  assert.match(rejected(["-5000"], server), /^Erreur: option inconnue -5 /);
  assert.match(rejected(["-k", "--", "-k"], server), /argument inattendu « -k »/);
  const terminated = parseFlags(["-k", "--"], server);
  assert.ok(terminated.ok);
  assert.equal(terminated.flags.keepOpen, true);
  assert.match(rejected(["--trace=1"], server), /l'option --trace ne prend pas de valeur/);
  assert.match(rejected(["-"], server), /argument inattendu « - »/);
  const dash = parseFlags(["--message", "-"], client);
  assert.ok(dash.ok);
  assert.equal(dash.flags.message, "-");
  assert.match(rejected(["--timeout", "1"], udpClient), /^Erreur: option inconnue --timeout /);
});

const PROGRAMS = [
  "tcp_server.ts",
  "tcp_client.ts",
  "udp_server.ts",
  "udp_client.ts",
  "exercises/ex1_tcp_server.ts",
  "exercises/ex1_tcp_client.ts",
  "exercises/ex2_udp_server.ts",
  "exercises/ex2_udp_client.ts",
];
const escaped = (file: string) => file.replace(/[./]/g, "\\$&");

Deno.test("every program prints its usage on --help and exits 0", async () => {
  for (const file of PROGRAMS) {
    const { code, stdout, stderr } = await runProgram(file, ["--help"]);
    assert.equal(code, 0, file);
    assert.equal(stderr, "");
    assert.match(stdout, new RegExp(`^${escaped(file)} -- `));
    assert.match(stdout, /--port PORT/);
    assert.match(stdout, /Exemple, depuis un autre terminal : (nc|deno run --allow-net exercises)/);
  }
});

Deno.test("every program answers a bad flag with one French line and exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--port", "70000"], /^Erreur: port invalide « 70000 »/],
    [["--nope"], /^Erreur: option inconnue --nope/],
    [["--port"], /^Erreur: l'option --port attend une valeur PORT/],
    [["extra"], /^Erreur: argument inattendu « extra »/],
  ];
  for (const file of PROGRAMS) {
    for (const [args, expected] of cases) {
      const { code, stdout, stderr } = await runProgram(file, args);
      assert.equal(code, 2, `${file} ${args.join(" ")}`);
      assert.equal(stdout, "");
      assert.match(stderr, expected);
      assert.match(
        stderr,
        new RegExp(`\\(voir : deno run --allow-net ${escaped(file)} --help\\)\n$`),
      );
      assert.equal(stderr.split("\n").length, 2, "exactly one line");
    }
  }
});

Deno.test("udp_server.ts answers a bad --buffer-size with exit code 2", async () => {
  const { code, stderr } = await runProgram("udp_server.ts", ["--buffer-size", "0"]);
  assert.equal(code, 2);
  assert.match(stderr, /^Erreur: taille de tampon invalide « 0 » : attendu un entier de 1 à 65536/);
});

Deno.test("hints name the command as typed from the current folder, here exercises/", async () => {
  const run = (args: string[]) =>
    new Deno.Command("deno", {
      args: ["run", "--allow-net", "ex1_tcp_server.ts", ...args],
      cwd: `${ROOT}exercises`,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
  const bad = await run(["--nope"]);
  assert.equal(bad.code, 2);
  assert.equal(
    new TextDecoder().decode(bad.stderr),
    "Erreur: option inconnue --nope (voir : deno run --allow-net ex1_tcp_server.ts --help)\n",
  );
  const help = new TextDecoder().decode((await run(["--help"])).stdout);
  assert.match(help, /^ex1_tcp_server\.ts -- /);
  assert.match(help, /\nUsage : deno run --allow-net ex1_tcp_server\.ts \[options\]\n/);
});
