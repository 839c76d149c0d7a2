// A kernel command line reaches the kernel identically on every boot path, or is refused with the reason.
// Two languages carry a boot profile's cmdline (pure; tested against both loaders' parsing rules):
//
// iPXE (x86_64 targets; ipxe/src/core/exec.c, settings.c): a line is split on whitespace; a word that
//   starts with "#" starts a comment; a word that is exactly ";", "&&" or "||" ends the command; then every
//   "${name}" in a word is replaced by a setting's value, again and again until none is left — there is no
//   escape. The kernel gets the words joined by one space. So: a word starting with "#" or equal to ";",
//   "&&", "||" is written behind an empty expansion "${}" (which iPXE turns into nothing); a word holding
//   "${…}" cannot be carried and is refused.
// GRUB 2.06 (arm64 UEFI targets; grub-core/script, lib/cmdline.c): words are shell-like — ";" ends a command,
//   "#" starts a comment, "$x" expands, quotes and backslashes are syntax. Inside single quotes everything
//   is literal, so each word is single-quoted when it has any character beyond [A-Za-z0-9_.,:/=+-]. The
//   linux command then joins its words with one space but puts a backslash before \ ' and " — those cannot
//   reach the kernel unchanged through GRUB and are refused.
// Both: words are separated by one space (runs of whitespace collapse), printable ASCII only.

export type Loader = 'ipxe' | 'grub';

/** The loaders that will carry a profile for a target of this arch (both when no VM is known for the MAC). */
export function loadersFor(arch: 'x86_64' | 'aarch64' | null): Loader[] {
  return arch === 'x86_64' ? ['ipxe'] : arch === 'aarch64' ? ['grub'] : ['ipxe', 'grub'];
}

/** What every loader needs (the bootProfile schema checks it): printable ASCII words, one space apart. */
export function cmdlineSyntaxProblem(cmdline: string): string | null {
  if (/[^\x20-\x7e]/.test(cmdline)) return 'use printable ASCII only: tabs, control characters and non-ASCII letters do not pass through iPXE and GRUB unchanged';
  if (/ {2}|^ | $/.test(cmdline)) return 'separate words with exactly one space: iPXE and GRUB join the kernel\'s words with one space, so other spacing would not reach the kernel as written';
  return null;
}

const IPXE_EXPANSION = /\$\{[\s\S]*\}/;

/** Why `loader` cannot pass `cmdline` to the kernel unchanged, or null. */
export function cmdlineProblem(cmdline: string, loader: Loader): string | null {
  const common = cmdlineSyntaxProblem(cmdline);
  if (common) return common;
  const words = cmdlineWords(cmdline);
  if (loader === 'ipxe') {
    const w = words.find((x) => IPXE_EXPANSION.test(x));
    if (w) return `iPXE replaces \${…} with a setting's value and has no escape for it, so '${w}' would not reach the kernel as written`;
  } else {
    const w = words.find((x) => /["'\\]/.test(x));
    if (w) return `GRUB's linux command puts a backslash before " ' and \\ when it passes the line to the kernel, so '${w}' would not reach it as written (x86_64 targets boot through iPXE, which carries them)`;
  }
  return null;
}

/** Why a profile cannot be carried by one of `loaders`, naming the loader, or null. */
export function profileCmdlineProblem(cmdline: string, loaders: Loader[]): string | null {
  for (const l of loaders) {
    const p = cmdlineProblem(cmdline, l);
    if (p) return loaders.length > 1 && !cmdlineSyntaxProblem(cmdline) ? `${p} (no VM owns this MAC yet, so both iPXE and GRUB must carry it)` : p;
  }
  return null;
}

export function cmdlineWords(cmdline: string): string[] {
  return cmdline.split(' ').filter(Boolean);
}

/** The cmdline as iPXE words (for after `kernel <url>`); call only when cmdlineProblem(…, 'ipxe') is null. */
export function ipxeCmdline(cmdline: string): string {
  return cmdlineWords(cmdline).map((w) => (w.startsWith('#') || w === ';' || w === '&&' || w === '||' ? `\${}${w}` : w)).join(' ');
}

/** The cmdline as GRUB words (for after `linux <path>`); call only when cmdlineProblem(…, 'grub') is null. */
export function grubCmdline(cmdline: string): string {
  return cmdlineWords(cmdline).map((w) => (/^[A-Za-z0-9_.,:/=+-]+$/.test(w) ? w : `'${w}'`)).join(' ');
}
