/**
 * report.ts -- what the verifier prints: one line per check, a summary line,
 * or a single JSON object for teachers who check a whole class.
 *
 * @module
 */
import type { Exercise, Result } from "./checks.ts";

/** The command as one would type it (arguments with spaces are quoted). */
export function shownCommand(command: string[]): string {
  return command.map((arg) => /^[\w@%+=:,./~-]+$/.test(arg) ? arg : `'${arg}'`).join(" ");
}

/** The lines before the checks. */
export function header(exercise: Exercise, port: number, command: string[]): string[] {
  return [
    `Vérification : ${exercise.label}, port ${port}`,
    `Programme : ${shownCommand(command)}`,
    `(${exercise.plays}, et relance votre programme pour chaque vérification)`,
  ];
}

/** A check's line: ✓ and its title, or ✗, its title and why. */
export function resultLine(result: Result): string {
  return result.status === "réussie" ? `✓ ${result.title}` : `✗ ${result.title} : ${result.why}`;
}

/** The title of a level's section. */
export function sectionTitle(level: Result["level"]): string {
  return level === "requis" ? "Vérifications requises :" : "Vérifications avancées :";
}

/** Whether every required check passed: the verifier's exit code is 0 exactly then. */
export function allRequiredPassed(results: Result[]): boolean {
  return results.every((r) => r.level !== "requis" || r.status === "réussie");
}

function count(results: Result[], level: Result["level"]) {
  const ofLevel = results.filter((r) => r.level === level);
  return { passed: ofLevel.filter((r) => r.status === "réussie").length, total: ofLevel.length };
}

/** "7/7 vérifications requises réussies, 1 avancée". */
export function summary(results: Result[]): string {
  const required = count(results, "requis");
  const advanced = count(results, "avancé");
  const plural = advanced.passed > 1 ? "s" : "";
  return `${required.passed}/${required.total} vérifications requises réussies, ` +
    `${advanced.passed} avancée${plural}`;
}

/** A result's status for machines: ASCII, no spaces. */
const STATUS_IDS = { "réussie": "reussie", "échouée": "echouee", "non vérifiée": "non-verifiee" };

/**
 * The whole run as one JSON object. Keys and the values meant for scripts
 * (`niveau`, `resultat`) are plain ASCII, for jq and spreadsheets; titles and
 * explanations are the French sentences of the text output.
 */
export function toJson(
  exercise: Exercise,
  port: number,
  command: string[],
  results: Result[],
): string {
  const required = count(results, "requis");
  const advanced = count(results, "avancé");
  return JSON.stringify({
    exercice: exercise.name,
    port,
    commande: command,
    reussi: allRequiredPassed(results),
    requises: { reussies: required.passed, total: required.total },
    avancees: { reussies: advanced.passed, total: advanced.total },
    verifications: results.map((r) => ({
      id: r.id,
      niveau: r.level === "requis" ? "requis" : "avance",
      titre: r.title,
      resultat: STATUS_IDS[r.status],
      ...(r.why ? { explication: r.why } : {}),
    })),
  });
}
