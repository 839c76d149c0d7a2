import { describe, expect, it } from 'vitest';
import { cmdlineProblem, grubCmdline, ipxeCmdline, loadersFor, profileCmdlineProblem } from './cmdline.ts';
import { bootProfile, renderGrubConfig, renderIpxeScript } from './pxe.ts';

/**
 * iPXE's command-line semantics, as ipxe/src/core/exec.c (split_command, command_terminator, system) and
 * settings.c (expand_settings) implement them: whitespace-split tokens; a token starting with "#" begins a
 * comment; ";", "&&", "||" end the command; each token's "${name}" is expanded until none is left (unknown
 * settings are empty). Returns the argv of the first command of a line.
 */
function ipxeArgv(line: string, settings: Record<string, string> = {}): string[] {
  const tokens = line.split(/\s+/).filter(Boolean);
  const argv: string[] = [];
  for (const t of tokens) {
    if (t.startsWith('#') || t === ';' || t === '&&' || t === '||') break;
    let s = t;
    for (;;) {
      let start = -1, end = -1;
      for (let i = 0; i < s.length; i++) {
        if (s[i] === '$' && s[i + 1] === '{') start = i;
        if (start >= 0 && s[i] === '}') { end = i; break; }
      }
      if (end < 0) break;
      s = s.slice(0, start) + (settings[s.slice(start + 2, end)] ?? '') + s.slice(end + 1);
    }
    argv.push(s);
  }
  return argv;
}

/** The kernel's command line from an iPXE script: the `kernel` line's words after the URL, joined by one space. */
function ipxeKernelCmdline(script: string): string {
  const line = script.split('\n').find((l) => l.startsWith('kernel '))!;
  return ipxeArgv(line, { 'net0/ip': '192.168.100.20' }).slice(2).join(' ');
}

// issue 11 #1 and the characters it names: ; $ # quotes backslashes ${…}
const ISSUE = 'console=ttyAMA0 autoinstall ds=nocloud;s=http://192.168.100.1/ci/ quiet';
const CARRIED_BY_BOTH = [ISSUE, 'pw=$6$salt$hash quiet', 'a #b c', '# ; && || x', 'x=a|b&c<d>e{f}g', 'k=$HOME $', 'a=${x', 'b=x} y'];
const ONLY_IPXE = ['s="a b"', "q='x'", 'p=a\\b', 'ds="nocloud;s=http://x/"'];
const ONLY_GRUB = ['a=${x}', 'p=${net0/ip}', 'u=${}'];

describe('issue 11 #1: the kernel sees exactly the profile\'s cmdline through iPXE', () => {
  for (const c of [...CARRIED_BY_BOTH, ...ONLY_IPXE]) {
    it(`carries ${c}`, () => {
      expect(cmdlineProblem(c, 'ipxe')).toBeNull();
      const script = renderIpxeScript({ kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd', cmdline: c }, '192.168.100.1', 't');
      expect(ipxeKernelCmdline(script)).toBe(`initrd=initrd ${c}`);
    });
  }
  it('escapes comment and terminator words behind an empty expansion', () => {
    expect(ipxeCmdline('a #b ; && || c#d')).toBe('a ${}#b ${}; ${}&& ${}|| c#d');
  });
  it('refuses ${…} (iPXE has no escape for it), with the reason', () => {
    for (const c of ONLY_GRUB) expect(cmdlineProblem(c, 'ipxe'), c).toMatch(/^iPXE replaces \$\{…\} with a setting's value and has no escape for it, so '.*' would not reach the kernel as written$/);
    const script = renderIpxeScript({ kind: 'kernel', kernel: 'vmlinuz', cmdline: 'a=${x}' }, '192.168.100.1', 't');
    expect(script).toBe('#!ipxe\necho pvmlab: not booting t: iPXE cannot pass its kernel command line unchanged; fix the boot profile on the PXE page\nsleep 10\nexit 1\n');
    expect(ipxeArgv(script.split('\n')[1])).toEqual(['echo', 'pvmlab:', 'not', 'booting', 't:', 'iPXE', 'cannot', 'pass', 'its', 'kernel', 'command', 'line', 'unchanged;', 'fix', 'the', 'boot', 'profile', 'on', 'the', 'PXE', 'page']);
  });
});

describe('GRUB rendering (the real parser runs in cmdline.int.test.ts)', () => {
  it('issue 11 #1: the profile from the report', () => {
    expect(renderGrubConfig({ kind: 'kernel', kernel: 'vmlinuz', initrd: 'initrd', cmdline: ISSUE }, 'arm1')).toBe(
      "set timeout=0\necho \"pvmlab: booting arm1\"\nlinux /artifacts/vmlinuz console=ttyAMA0 autoinstall 'ds=nocloud;s=http://192.168.100.1/ci/' quiet\ninitrd /artifacts/initrd\nboot\n");
    expect(grubCmdline('pw=$6$salt$hash')).toBe("'pw=$6$salt$hash'");
  });
  it('refuses what GRUB\'s linux command re-escapes: " \' \\', () => {
    for (const c of ONLY_IPXE) expect(cmdlineProblem(c, 'grub'), c).toMatch(/^GRUB's linux command puts a backslash before " ' and \\ when it passes the line to the kernel/);
    for (const c of [...CARRIED_BY_BOTH, ...ONLY_GRUB]) expect(cmdlineProblem(c, 'grub'), c).toBeNull();
    expect(renderGrubConfig({ kind: 'kernel', kernel: 'k', cmdline: 's="a b"' }, 'arm1')).toBe(
      'set timeout=0\necho "pvmlab: booting arm1"\necho "pvmlab: not booting arm1: GRUB cannot pass its kernel command line unchanged; fix the boot profile on the PXE page"\nsleep 10\nexit\n');
  });
});

describe('what every loader needs, and which loaders a profile must pass', () => {
  it('printable ASCII, one space between words (the schema trims the ends)', () => {
    expect(bootProfile.parse({ kind: 'kernel', kernel: 'k', cmdline: '  quiet ' })).toEqual({ kind: 'kernel', kernel: 'k', cmdline: 'quiet' });
    expect(bootProfile.safeParse({ kind: 'kernel', kernel: 'k', cmdline: 'a  b' }).error?.issues[0].message).toMatch(/^separate words with exactly one space/);
    expect(bootProfile.safeParse({ kind: 'kernel', kernel: 'k', cmdline: 'a\tb' }).error?.issues[0].message).toMatch(/^use printable ASCII only/);
    expect(bootProfile.safeParse({ kind: 'kernel', kernel: 'k', cmdline: 'lang=é' }).success).toBe(false);
  });
  it('x86_64 → iPXE, aarch64 → GRUB, no VM yet → both', () => {
    expect(loadersFor('x86_64')).toEqual(['ipxe']);
    expect(loadersFor('aarch64')).toEqual(['grub']);
    expect(profileCmdlineProblem('s="a b"', loadersFor('x86_64'))).toBeNull();
    expect(profileCmdlineProblem('s="a b"', loadersFor(null))).toMatch(/\(no VM owns this MAC yet, so both iPXE and GRUB must carry it\)$/);
    expect(profileCmdlineProblem('a=${x}', loadersFor('aarch64'))).toBeNull();
  });
});
