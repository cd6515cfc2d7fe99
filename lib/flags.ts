/**
 * flags.ts -- the command-line flags shared by every program of the workshop.
 *
 * Each program names the flags it takes and their defaults; this module turns
 * `Deno.args` into those values, prints `--help`, and rejects bad input with
 * one French line and exit code 2. The command line is cut into options the
 * way POSIX tools do (see {@link splitArgs}), by hand: Deno's `node:util`
 * would cost every program a quarter of its start-up.
 *
 * @module
 */
import { EXIT } from "./exit.ts";
import { hostPort, MAX_DATAGRAM } from "./ip.ts";
import { runCommand, scriptPath } from "./program.ts";
import { exitOnErrors, requireNetAccess, requireUnstableNet } from "./setup.ts";
import { exitNow, printError, writeAllSync } from "./terminal.ts";
import { clearTimeout, setTimeout } from "./timers.ts";

/**
 * lib/trace.ts, loaded only when `--trace` is on the command line: most runs
 * never need it, and loading it would cost every program's start-up. It is
 * loaded here, before any lesson runs, because the lessons' first socket call
 * follows `readFlags()` at once. (`--trace` is on the command line whenever
 * {@link parseFlags} says it was given.)
 */
const trace = Deno.args.includes("--trace") ? await import("./trace.ts") : null;

/** Every flag a program may take, with the type of its value. */
export interface Flags {
  /** `--host`: the address to listen on (servers) or to reach (clients). */
  host: string;
  /** `--port`: a TCP or UDP port. */
  port: number;
  /** `--message`: the text a one-shot client sends. */
  message: string;
  /** `--buffer-size`: how many bytes one `receive` keeps. */
  bufferSize: number;
  /** `--keep-open` / `-k`: keep accepting clients, as `nc -k` does. */
  keepOpen: boolean;
  /** `--timeout`: seconds to wait before giving up. */
  timeout: number;
}

/** What a program says about itself and which flags it takes. */
export interface FlagSpec<K extends keyof Flags> {
  /** The protocol: UDP programs need Deno's `--unstable-net`. */
  transport: "tcp" | "udp";
  /** One French sentence: what the program does. */
  purpose: string;
  /** Servers accept port 0 ("any free port"); clients need 1-65535. */
  role: "server" | "client";
  /** The flags this program takes, each with its default value. */
  defaults: Pick<Flags, K>;
  /** Help text for a flag, where the shared wording does not fit. */
  help?: Partial<Record<keyof Flags, string>>;
  /** Extra lines for the usage text (French). */
  notes?: string[];
  /** The command to try the program from a second terminal. */
  example: string;
  /** The line for "connection refused", when the workshop has its own wording. */
  refused?: string;
}

/** The outcome of {@link parseFlags}: values, or text to print and an exit code. */
export type FlagResult<K extends keyof Flags> =
  | { ok: true; flags: Pick<Flags, K>; given: Set<K>; trace: boolean }
  | { ok: false; code: number; text: string };

/** How each flag is spelled, and what kind of value it takes. */
const FLAG_INFO: Record<keyof Flags, { name: string; short?: string; value?: string }> = {
  host: { name: "host", value: "ADRESSE" },
  port: { name: "port", value: "PORT" },
  message: { name: "message", value: "TEXTE" },
  bufferSize: { name: "buffer-size", value: "OCTETS" },
  keepOpen: { name: "keep-open", short: "k" },
  timeout: { name: "timeout", value: "SECONDES" },
};

/** Largest buffer a UDP `receive` can need: a datagram carries at most 65,507 bytes. */
const MAX_BUFFER_SIZE = 65536;
/** Longest timeout accepted, in seconds (one hour). */
const MAX_TIMEOUT = 3600;
/**
 * Shortest timeout accepted, in seconds. On this machine a reply takes well
 * under a millisecond, but the timer also runs while the client and the
 * server wait for a busy processor (a time slice lasts milliseconds) or for
 * their event loop. Below 0.1 s the timer, not the network, would decide, and
 * the message would blame a firewall for nothing.
 */
const MIN_TIMEOUT = 0.1;

/** One piece of a command line: an option, a positional argument, or `--`. */
export type ArgToken =
  | {
    kind: "option";
    /** The long name (`keep-open` for `-k`); for an unknown short flag, its letter. */
    name: string;
    /** The option as typed: `-k`, `--port` (without `=value`). */
    rawName: string;
    /** Its value, if it took one. */
    value?: string;
    /** Whether the value was glued on (`--port=5000`) rather than the next argument. */
    inlineValue?: boolean;
  }
  | { kind: "positional"; value: string }
  | { kind: "option-terminator" };

/**
 * Cuts `args` into options, positional arguments and `--`, the way POSIX
 * tools do, and with the same tokens as `node:util`'s `parseArgs` (non-strict,
 * `tokens: true`), which this replaces:
 * - `--name=value` is an option with its value glued on; `--name` alone takes
 *   the next argument as its value if `name` is in `withValue`, whatever it
 *   looks like (`--port --host` takes "--host": the caller decides);
 * - `-x` is the option whose short letter is x (`shorts`: letter → long
 *   name), or the letter itself; `-xyz` is `-x -y -z`, except that a letter
 *   that takes a value takes the rest (`-fFILE`), or the next argument;
 * - `--` ends the options: everything after it is positional, and so is `-`
 *   or anything that does not start with a dash.
 */
export function splitArgs(
  args: string[],
  withValue: ReadonlySet<string>,
  shorts: ReadonlyMap<string, string>,
): ArgToken[] {
  const tokens: ArgToken[] = [];
  const rest = [...args];
  const long = (letter: string) => shorts.get(letter) ?? letter;
  /** The option `name`, typed `rawName`, with the next argument as its value if it takes one. */
  const option = (name: string, rawName: string): ArgToken =>
    withValue.has(name) && rest.length > 0
      ? { kind: "option", name, rawName, value: rest.shift(), inlineValue: false }
      : { kind: "option", name, rawName };
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--") {
      tokens.push({ kind: "option-terminator" });
      for (const value of rest) tokens.push({ kind: "positional", value });
      break;
    }
    if (arg.length >= 2 && arg[0] === "-" && arg[1] !== "-") {
      const name = long(arg[1]);
      if (arg.length === 2) {
        tokens.push(option(name, arg)); // -k, or -f VALUE
      } else if (withValue.has(name)) {
        // -fFILE
        tokens.push({
          kind: "option",
          name,
          rawName: arg.slice(0, 2),
          value: arg.slice(2),
          inlineValue: true,
        });
      } else {
        // -kh: -k then -h, read again one by one; a letter that takes a value takes the rest.
        const each: string[] = [];
        for (let i = 1; i < arg.length; i++) {
          if (!withValue.has(long(arg[i])) || i === arg.length - 1) {
            each.push(`-${arg[i]}`);
          } else {
            each.push(`-${arg.slice(i)}`);
            break;
          }
        }
        rest.unshift(...each);
      }
      continue;
    }
    if (arg.length > 2 && arg.startsWith("--")) {
      if (arg.indexOf("=", 3) === -1) {
        tokens.push(option(arg.slice(2), arg)); // --name, or --name VALUE
      } else {
        // --name=value (the name ends at the first "=")
        const equal = arg.indexOf("=");
        const name = arg.slice(2, equal);
        tokens.push({
          kind: "option",
          name,
          rawName: `--${name}`,
          value: arg.slice(equal + 1),
          inlineValue: true,
        });
      }
      continue;
    }
    tokens.push({ kind: "positional", value: arg });
  }
  return tokens;
}

/** Parses `args` against `spec`. Pure: prints nothing and never exits. */
export function parseFlags<K extends keyof Flags>(
  args: string[],
  spec: FlagSpec<K>,
): FlagResult<K> {
  const keys = Object.keys(spec.defaults) as K[];
  // Every program takes --help (-h) and --trace (lib/trace.ts).
  const withValue = new Set<string>();
  const shorts = new Map([["h", "help"]]);
  for (const key of keys) {
    const info = FLAG_INFO[key];
    if (info.value) withValue.add(info.name);
    if (info.short) shorts.set(info.short, info.name);
  }
  // Every token is looked at in turn, so that each mistake gets its own French line.
  const tokens = splitArgs(args, withValue, shorts);
  const fail = (what: string) => ({
    ok: false as const,
    code: EXIT.USAGE,
    text: `Erreur: ${what} (voir : ${runCommand("--help")})`,
  });

  const flags = { ...spec.defaults } as Pick<Flags, K>;
  const given = new Set<K>();
  let trace = false;
  for (const token of tokens) {
    if (token.kind === "positional") {
      return fail(`argument inattendu « ${token.value} » : ce programme ne prend que des options`);
    }
    if (token.kind !== "option") continue; // "--" alone: nothing follows it that we accept
    if (token.name === "help") {
      return { ok: false, code: EXIT.OK, text: usage(spec) };
    }
    if (token.name === "trace") {
      if (token.value !== undefined) return fail("l'option --trace ne prend pas de valeur");
      trace = true;
      continue;
    }
    const key = keys.find((k) => FLAG_INFO[k].name === token.name);
    if (key === undefined) return fail(`option inconnue ${token.rawName}`);
    given.add(key);
    const info = FLAG_INFO[key];
    if (!info.value) {
      if (token.value !== undefined) {
        return fail(`l'option ${token.rawName} ne prend pas de valeur`);
      }
      (flags as Flags)[key as "keepOpen"] = true;
      continue;
    }
    // `--port --host x` would take "--host" as the port: refuse a value that looks like
    // an option unless it was glued on with "=" (`--message=-x` is fine).
    const value = token.value;
    if (value === undefined || (!token.inlineValue && value.startsWith("-") && value !== "-")) {
      return fail(`l'option --${info.name} attend une valeur ${info.value}`);
    }
    const checked = checkValue(key, value, spec.role);
    if (typeof checked === "string") return fail(checked);
    (flags as Record<string, unknown>)[key] = checked.value;
  }
  const message = (flags as Partial<Flags>).message;
  if (spec.transport === "udp" && message !== undefined) {
    const bytes = new TextEncoder().encode(message).length;
    if (bytes > MAX_DATAGRAM) {
      return fail(
        `message trop long pour un datagramme UDP : ${bytes} octets, ${MAX_DATAGRAM} au plus ` +
          "(un paquet IP de 65535 octets, moins les en-têtes IP et UDP)",
      );
    }
  }
  return { ok: true, flags, given, trace };
}

/** Checks one flag's value: the value itself, or a French explanation of what is wrong. */
function checkValue(
  key: keyof Flags,
  value: string,
  role: "server" | "client",
): { value: string | number } | string {
  switch (key) {
    case "port": {
      const low = role === "server" ? 0 : 1;
      const port = wholeNumber(value, 5);
      if (!(port >= low && port <= 65535)) {
        return `port invalide « ${value} » : attendu un entier de ${low} à 65535` +
          (role === "server" ? " (0 = un port libre au choix du système)" : "");
      }
      return { value: port };
    }
    case "bufferSize": {
      const size = wholeNumber(value, 6);
      if (!(size >= 1 && size <= MAX_BUFFER_SIZE)) {
        return `taille de tampon invalide « ${value} » : attendu un entier de 1 à ${MAX_BUFFER_SIZE} octets`;
      }
      return { value: size };
    }
    case "timeout": {
      // A decimal comma too, as the programs print it: 0,5 is 0.5.
      const seconds = /^\d+([.,]\d+)?$/.test(value) ? Number(value.replace(",", ".")) : NaN;
      // "0,1": not toLocaleString("fr-FR"), whose first call loads the French locale,
      // which cost about 20 ms of start-up to every --timeout.
      const min = String(MIN_TIMEOUT).replace(".", ",");
      if (seconds < MIN_TIMEOUT) {
        return `délai trop court « ${value} » : ${min} s au moins, sinon même un serveur ` +
          "sur cette machine n'a pas le temps de répondre";
      }
      if (!(seconds <= MAX_TIMEOUT)) {
        return `délai invalide « ${value} » : attendu un nombre de secondes de ${min} à ${MAX_TIMEOUT} (par exemple 0,5 ou 2)`;
      }
      return { value: seconds };
    }
    case "host": {
      // [::1] is how a URL writes an IPv6 address: the brackets are not part of it.
      const host = value.trim().replace(/^\[(.*:.*)\]$/, "$1");
      return hostProblem(host) ?? { value: host };
    }
    default:
      return { value };
  }
}

/**
 * `value` as a number if it is 1 to `digits` decimal digits, else NaN: the
 * same as /^\d{1,N}$/ with N = `digits`, without a regular expression. The
 * first one a program runs costs it about half a millisecond, and most
 * programs run none.
 */
function wholeNumber(value: string, digits: number): number {
  if (value.length === 0 || value.length > digits) return NaN;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
  }
  return Number(value);
}

/** What is wrong with a --host value, in French, or null if it is an IP address or a host name. */
function hostProblem(host: string): string | null {
  // Control characters would break the line; a long value is shortened.
  const shown = (host.length > 40 ? `${host.slice(0, 30)}…` : host).replace(/\p{Cc}/gu, "�");
  if (host === "") return "adresse vide pour --host : attendu une adresse IP ou un nom";
  const withPort = /^([^:]+):(\d+)$/.exec(host);
  if (withPort) {
    return `l'adresse « ${shown} » contient un port : donnez-le à part ` +
      `(--host ${withPort[1]} --port ${withPort[2]})`;
  }
  if (host.includes(":")) {
    try {
      new URL(`http://[${host}]/`); // the URL parser knows IPv6 addresses
      return null;
    } catch {
      return `adresse IPv6 invalide « ${shown} » pour --host : attendu par exemple ::1 ou [::1]`;
    }
  }
  // A host name (RFC 1123): at most 253 characters, 63 between two dots.
  const name = host.replace(/\.$/, "");
  if (name.length > 253) {
    return `nom d'hôte trop long pour --host (${name.length} caractères) : 253 au plus`;
  }
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) {
    return `adresse invalide « ${shown} » pour --host : attendu une adresse IP (127.0.0.1, ::1) ` +
      "ou un nom fait de lettres sans accent, de chiffres, de « - » et de « . »";
  }
  if (name.split(".").some((label) => label.length > 63)) {
    return `nom d'hôte invalide « ${shown} » pour --host : 63 caractères au plus entre deux points`;
  }
  return null;
}

/** The `--help` text, in French. */
export function usage<K extends keyof Flags>(spec: FlagSpec<K>): string {
  const server = spec.role === "server";
  const defaults = spec.defaults as Partial<Flags>;
  const shared: Record<keyof Flags, string> = {
    host: server
      ? `adresse où écouter (défaut : ${defaults.host} ; 0.0.0.0 = toutes les interfaces IPv4, :: = IPv6 et IPv4)`
      : `adresse du serveur (défaut : ${defaults.host})`,
    port: server
      ? `port où écouter (défaut : ${defaults.port} ; 0 = un port libre, affiché au démarrage)`
      : `port du serveur (défaut : ${defaults.port})`,
    message: `texte à envoyer (défaut : ${JSON.stringify(defaults.message)})`,
    bufferSize:
      `octets gardés par datagramme, de 1 à ${MAX_BUFFER_SIZE} ; au-delà le datagramme est coupé (défaut : ${defaults.bufferSize})`,
    keepOpen: "rester ouvert et servir plusieurs clients à la fois (défaut : un seul client)",
    timeout: `secondes d'attente d'une réponse (défaut : ${defaults.timeout})`,
  };
  const rows: [string, string][] = [];
  for (const key of Object.keys(spec.defaults) as K[]) {
    const info = FLAG_INFO[key];
    const left = (info.short ? `-${info.short}, ` : "") + `--${info.name}` +
      (info.value ? ` ${info.value}` : "");
    rows.push([left, spec.help?.[key] ?? shared[key]]);
  }
  rows.push(["--trace", "afficher sur stderr chaque appel réseau et ses octets"]);
  rows.push(["-h, --help", "afficher cette aide"]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return [
    `${scriptPath()} -- ${spec.purpose}`,
    "",
    `Usage : ${runCommand("[options]")}`,
    "",
    "Options :",
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    ...(spec.notes?.length ? ["", ...spec.notes] : []),
    "",
    `Exemple, depuis un autre terminal : ${spec.example}`,
    "",
  ].join("\n");
}

/**
 * Reads `Deno.args` for `spec`: the flags' values, and which flags the user
 * gave. On `--help` it prints the usage and exits 0; on a bad flag it prints
 * one French line on stderr and exits 2. From then on, any error that
 * escapes the program prints its French line and exits with its code. On
 * `--trace`, which every program takes, the sockets opened from then on say
 * what they do, on stderr (lib/trace.ts).
 */
export function readFlags<K extends keyof Flags>(
  spec: FlagSpec<K>,
): Pick<Flags, K> & { given: Set<K> } {
  const result = parseFlags(Deno.args, spec);
  if (!result.ok) {
    // Nothing else was printed yet: the usage goes out at once, before the exit.
    if (result.code === EXIT.OK) writeAllSync(Deno.stdout, new TextEncoder().encode(result.text));
    else printError(result.text);
    exitNow(result.code);
  }
  const flags = result.flags as Partial<Flags>;
  exitOnErrors({
    host: flags.host ?? "",
    port: flags.port ?? 0,
    timeout: flags.timeout,
    refused: spec.refused,
  });
  // Before any socket call: the addresses this program will ask Deno for.
  const at = hostPort(flags.host ?? "", flags.port ?? 0);
  const needs = [{
    address: at,
    doing: `${spec.role === "server" ? "écouter sur" : "joindre"} ${at}`,
  }];
  if (spec.role === "client" && spec.transport === "udp") {
    // A UDP client also opens its own socket, on a free port (0) of its address family.
    const own = hostPort(flags.host?.includes(":") ? "::" : "0.0.0.0", 0);
    needs.push({ address: own, doing: `ouvrir une socket UDP sur ${own}` });
  }
  requireNetAccess(needs, spec.transport === "udp");
  if (spec.transport === "udp") requireUnstableNet();
  // The first timer a program arms takes a while (a millisecond with lib/timers.ts; the
  // 13 ms and 3 MiB of Deno's own setTimeout are avoided there). A one-shot client may
  // never need one; a server arms one now, before its first client, so that a burst of
  // datagrams does not wait for it (the system drops what no longer fits).
  if (spec.role === "server") clearTimeout(setTimeout(() => {}));
  // Without --trace, the programs keep Deno's own socket functions: nothing to pay.
  if (result.trace) trace!.installTrace({ keepOpen: flags.keepOpen, bufferSize: flags.bufferSize });
  return { ...result.flags, given: result.given };
}
