// The pxeboot stack's DHCP boot rules as one table: which client gets which boot file. Rendered into the dnsmasq
// config the stack runs (pxeboot_stack/boot-rules.conf, checked against this table by bootrules.test.ts) and
// evaluated by explain.ts, so "what will this MAC get?" is answered by the same rules dnsmasq applies.
// Pure. Sources: RFC 4578 (option 93 client architectures), IANA "Processor Architecture Types" (16 = x64 UEFI
// HTTP, 19 = arm64 UEFI HTTP), UEFI 2.x §24.7 (HTTP Boot: vendor class "HTTPClient", the boot file as a URI),
// iPXE's user class "iPXE" and its option 175 (encapsulated iPXE options; 175.176 = no-pxedhcp).

/** How dnsmasq recognises a client: a substring of the user class (77) or vendor class (60), an option being
 * present, or option 93 (client system architecture) having a value. */
export type Match =
  | { kind: 'user-class'; value: string }
  | { kind: 'vendor-class'; value: string }
  | { kind: 'option'; option: number }
  | { kind: 'client-arch'; value: number };

export interface TagRule { tag: string; match: Match; why: string }

/** Tags set on a request (dnsmasq `dhcp-userclass` / `dhcp-vendorclass` / `dhcp-match`). */
export const TAG_RULES: TagRule[] = [
  { tag: 'ipxe', match: { kind: 'user-class', value: 'iPXE' }, why: 'user class (77) "iPXE": iPXE is already running (NIC ROM or chained)' },
  { tag: 'ipxe', match: { kind: 'option', option: 175 }, why: 'option 175 present: iPXE' },
  { tag: 'bios', match: { kind: 'client-arch', value: 0 }, why: 'option 93 = 0: x86 BIOS PXE' },
  { tag: 'efi-x64', match: { kind: 'client-arch', value: 7 }, why: 'option 93 = 7: x64 UEFI PXE' },
  { tag: 'efi-x64', match: { kind: 'client-arch', value: 9 }, why: 'option 93 = 9: x64 UEFI PXE (EFI BC)' },
  { tag: 'efi-arm64', match: { kind: 'client-arch', value: 11 }, why: 'option 93 = 11: arm64 UEFI PXE' },
  { tag: 'efi-x64-http', match: { kind: 'client-arch', value: 16 }, why: 'option 93 = 16: x64 UEFI HTTP Boot' },
  { tag: 'efi-arm64-http', match: { kind: 'client-arch', value: 19 }, why: 'option 93 = 19: arm64 UEFI HTTP Boot' },
  { tag: 'httpclient', match: { kind: 'vendor-class', value: 'HTTPClient' }, why: 'vendor class (60) "HTTPClient…": UEFI HTTP Boot' },
];

/** What a boot rule hands out. `server` and `efiX64` are filled in when rendering (placeholders for the stack). */
export type BootPathId = 'ipxe' | 'bios-pxe' | 'uefi-pxe' | 'uefi-http' | 'arm64-uefi-pxe';

export interface BootRule {
  path: BootPathId;
  label: string;
  /** All must hold; `!tag` = the tag must not be set. The rules are mutually exclusive (bootrules.test.ts). */
  tags: string[];
  transport: 'tftp' | 'http';
  /** The boot file: a TFTP path (with option 66/next-server = the server) or an http:// URL. */
  file: (p: RuleParams) => string;
  /** What the boot file is. */
  loads: 'ipxe-script' | 'ipxe' | 'grub';
}

export interface RuleParams { server: string; efiX64: string }

export const EFI_X64_BOOTFILES = ['snponly.efi', 'ipxe.efi'] as const;
/** The stack's default NBP for x64 UEFI (PXE_EFI_X64_BOOTFILE): iPXE driving the firmware's SNP, 170 KB. */
export const DEFAULT_EFI_X64_BOOTFILE = 'snponly.efi';

export const BOOT_RULES: BootRule[] = [
  { path: 'ipxe', label: 'iPXE (in ROM or chained)', tags: ['ipxe'], transport: 'http', file: (p) => `http://${p.server}/boot.ipxe`, loads: 'ipxe-script' },
  { path: 'bios-pxe', label: 'BIOS PXE', tags: ['!ipxe', 'bios'], transport: 'tftp', file: () => 'undionly.kpxe', loads: 'ipxe' },
  { path: 'uefi-http', label: 'UEFI HTTP Boot', tags: ['!ipxe', 'efi-x64-http', 'httpclient'], transport: 'http', file: (p) => `http://${p.server}/nbp/${p.efiX64}`, loads: 'ipxe' },
  { path: 'uefi-pxe', label: 'UEFI PXE', tags: ['!ipxe', 'efi-x64'], transport: 'tftp', file: (p) => p.efiX64, loads: 'ipxe' },
  { path: 'arm64-uefi-pxe', label: 'arm64 UEFI PXE (GRUB)', tags: ['!ipxe', 'efi-arm64'], transport: 'tftp', file: () => 'grubnetaa64.efi', loads: 'grub' },
];

/** Options sent only to some clients. */
export interface OptionRule { tags: string[]; code: number; name: string; value: string; dnsmasq: string; why: string }
export const OPTION_RULES: OptionRule[] = [
  { tags: ['ipxe'], code: 175, name: 'iPXE encapsulated options', value: '176 (no-pxedhcp) = 1', dnsmasq: 'encap:175,176,1',
    why: 'no ProxyDHCP here: iPXE need not wait ~2 s for one' },
  { tags: ['httpclient', 'efi-x64-http'], code: 60, name: 'vendor-class', value: 'HTTPClient', dnsmasq: 'option:vendor-class,HTTPClient',
    why: 'UEFI HTTP Boot takes only offers that answer "HTTPClient"' },
];

function matchLine(r: TagRule): string {
  const m = r.match;
  switch (m.kind) {
    case 'user-class': return `dhcp-userclass=set:${r.tag},${m.value}`;
    case 'vendor-class': return `dhcp-vendorclass=set:${r.tag},${m.value}`;
    case 'option': return `dhcp-match=set:${r.tag},${m.option}`;
    case 'client-arch': return `dhcp-match=set:${r.tag},option:client-arch,${m.value}`;
  }
}

const tagList = (tags: string[]) => tags.map((t) => (t.startsWith('!') ? `tag:!${t.slice(1)}` : `tag:${t}`)).join(',');

/**
 * The dnsmasq lines for the table (man dnsmasq: dhcp-userclass, dhcp-vendorclass, dhcp-match, dhcp-option-force,
 * dhcp-boot). TFTP boot files carry the server as next-server (`dhcp-boot=…,file,,server`); URLs stand alone.
 * With the default params the result is the stack's template: `@PXE_SERVER_IP@` and `@PXE_EFI_X64_BOOTFILE@` are
 * filled in by the entrypoint.
 */
export function renderBootRules(p: RuleParams = { server: '@PXE_SERVER_IP@', efiX64: '@PXE_EFI_X64_BOOTFILE@' }): string {
  const out = [
    '# pvmlab boot rules: rendered from server/lab/provisioner/bootrules.ts (do not edit here; bootrules.test.ts checks it)',
    '# client -> boot file by user class (77), vendor class (60) and client arch (93); iPXE always gets the script: no loops',
    ...TAG_RULES.map(matchLine),
    ...OPTION_RULES.map((o) => `dhcp-option-force=${tagList(o.tags)},${o.dnsmasq}`),
    ...BOOT_RULES.map((r) => `dhcp-boot=${tagList(r.tags)},${r.transport === 'tftp' ? `${r.file(p)},,${p.server}` : r.file(p)}`),
  ];
  return `${out.join('\n')}\n`;
}

/** What a DHCP client puts in its DISCOVER that the rules look at. */
export interface ClientRequest { arch: number | null; vendorClass: string | null; userClass: string | null; options: number[] }

function matches(m: Match, c: ClientRequest): boolean {
  switch (m.kind) {
    case 'user-class': return c.userClass?.includes(m.value) ?? false;
    case 'vendor-class': return c.vendorClass?.includes(m.value) ?? false;
    case 'option': return c.options.includes(m.option);
    case 'client-arch': return c.arch === m.value;
  }
}

/** The tags dnsmasq sets for a request, with the rules that set them (in table order). */
export function tagsFor(c: ClientRequest): { tags: string[]; because: TagRule[] } {
  const because = TAG_RULES.filter((r) => matches(r.match, c));
  return { tags: [...new Set(because.map((r) => r.tag))], because };
}

const holds = (want: string[], tags: string[]) => want.every((t) => (t.startsWith('!') ? !tags.includes(t.slice(1)) : tags.includes(t)));

/** The boot rule that answers these tags (null: an address but no boot file), and the extra options sent. */
export function answerFor(tags: string[]): { rule: BootRule | null; options: OptionRule[] } {
  return { rule: BOOT_RULES.find((r) => holds(r.tags, tags)) ?? null, options: OPTION_RULES.filter((o) => holds(o.tags, tags)) };
}
