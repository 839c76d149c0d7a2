// Where did a boot stop, and why? A pure reading of one boot's events (DHCP exchanges, TFTP/HTTP transfers,
// console milestones), in the order a network boot goes: firmware → DHCP → boot file (TFTP NBP or HTTP) →
// iPXE script → kernel + initrd → kernel → init → ready marker. The first step with no evidence is the stage it
// stopped in; the evidence around it names the likely cause. Table-tested in diagnose.test.ts.
import type { Milestone } from './console.ts';
import type { DhcpRound, TftpTransfer } from './dnsmasq.ts';
import type { HttpFetch } from './nginx.ts';
import type { Diagnosis, StageId } from './types.ts';

export interface BootFacts {
  mac: string;
  rounds: DhcpRound[];
  tftp: TftpTransfer[];
  http: HttpFetch[];
  milestones: Milestone[];
  /** the boot profile's kernel and initrd file names, when known (tells a kernel 404 from an initrd 404) */
  kernel: string | null;
  initrd: string | null;
  /** the VM boots over the network (a PXE target); false: a kernel or disk boot, whose stages start at the kernel */
  network?: boolean;
  /** the stack's logs were read (false: provisioner stopped or logs unreadable — judge from the console alone) */
  stackRead?: boolean;
  /** the VM is running now; ms since this boot's last event (power-on included) */
  running: boolean;
  idleMs: number;
}

/** A running boot whose last sign of life is older than this is stuck, not in progress. */
export const STUCK_AFTER_MS = 90_000;

const name = (uri: string) => decodeURIComponent(uri.split('?')[0].split('/').pop() ?? uri);
const isScript = (f: HttpFetch) => f.uri === '/boot.ipxe' || f.uri.startsWith('/ipxe/');
const isArtifact = (uri: string) => uri.startsWith('/artifacts/') || uri.includes('/artifacts/');
const NBP = /\.(kpxe|pxe|efi|0)$/;

/** Which of a boot's artifact fetches is the kernel: the profile's kernel by name, else the first one. */
export function kernelFetch(fetches: HttpFetch[], kernel: string | null): HttpFetch | null {
  const arts = fetches.filter((f) => isArtifact(f.uri));
  return (kernel ? arts.find((f) => name(f.uri) === kernel) : null) ?? arts[0] ?? null;
}

/** Diagnose one boot. Pure. */
export function diagnose(f: BootFacts): Diagnosis {
  const has = (k: Milestone['kind']) => f.milestones.find((m) => m.kind === k) ?? null;
  const stuck = !f.running || f.idleMs > STUCK_AFTER_MS;
  const stop = (stage: StageId, cause: string, hint: string | null = null): Diagnosis =>
    ({ ok: false, inProgress: !stuck, stage, cause: stuck ? cause : `in progress: ${stage}`, hint: stuck ? hint : null });
  const fail = (stage: StageId, cause: string, hint: string | null = null): Diagnosis => ({ ok: false, inProgress: false, stage, cause, hint });

  if (has('ready') || has('login')) return { ok: true, inProgress: false, stage: null, cause: 'reached its ready marker', hint: null };
  const panic = has('panic');
  if (panic) return fail('kernel', `kernel panic: ${panic.text.replace(/^.*Kernel panic - not syncing: ?/, '')}`, 'check the initrd and the root= / init= arguments');

  if (f.network !== false && f.stackRead === false) {
    const bad = f.milestones.find((m) => m.kind === 'ipxe-fetch' && m.ok === false);
    const why = 'the provisioner\'s logs were not read (is it running?): judged from the console alone';
    if (bad) {
      const reason = bad.text.replace(/^\S+\.\.\.\s*/, '');
      return fail(bad.url?.includes('/artifacts/') ? 'kernel-fetch' : 'script', `iPXE could not fetch ${bad.url}: ${reason}`, why);
    }
    if (!has('kernel')) return stop(has('ipxe-fetch') ? 'kernel-start' : has('ipxe') ? 'dhcp' : 'firmware', `${has('ipxe-fetch') ? 'kernel fetched, no console output: check console=' : 'no kernel on the console yet'}`, why);
  }
  if (f.network === false || f.stackRead === false) {
    if (!has('kernel')) return stop('kernel-start', 'no kernel output on the console: check console= on the kernel command line', 'console=ttyS0 (x86_64) or console=ttyAMA0 (aarch64)');
    if (!has('init')) return stop('kernel', 'the kernel started, init never ran', 'check the initrd (and rdinit=/init=)');
    return stop('userspace', 'init ran, no ready marker (PVMLAB-GUEST-READY or a login prompt) yet', 'look at the end of the serial log');
  }

  // ---- DHCP
  const fwFail = has('no-boot-device');
  if (!f.rounds.length) {
    if (fwFail) return fail('firmware', 'the firmware found nothing to boot and never asked for DHCP', 'check the boot order (network first) and that the NIC has a PXE ROM');
    return stop('firmware', `no DHCP DISCOVER from ${f.mac} reached dnsmasq`, 'is the provisioner running with its stack healthy, and the target on the lab network?');
  }
  const offered = f.rounds.some((r) => r.messages.some((m) => m.type === 'OFFER' || m.type === 'ACK' || m.type === 'NAK'));
  if (!offered) {
    const why = f.rounds.flatMap((r) => r.messages).find((m) => m.note)?.note;
    return stop('dhcp', `DHCP DISCOVER never answered${why ? ` (dnsmasq: ${why})` : ''}: no reservation for ${f.mac} and no free address in the range`,
      'reserve an IP for this MAC (pvmlab pxe reserve) or widen the dynamic range');
  }
  const nak = f.rounds.find((r) => r.nak);
  const acked = f.rounds.filter((r) => r.acked);
  if (!acked.length) {
    if (nak) return fail('dhcp', `DHCPNAK: ${nak.nak}`, 'the client asked for an address dnsmasq will not give it (a stale lease?)');
    return stop('dhcp', 'address offered, but the client never sent a REQUEST for it', 'another DHCP server on the segment, or the client rejected the offer');
  }

  // ---- boot file: TFTP NBP / GRUB, or HTTP (iPXE, UEFI HTTP Boot)
  const first = acked[0];
  const tftpErr = f.tftp.find((t) => !t.ok);
  const httpNbp = f.http.find((x) => NBP.test(x.uri.split('?')[0]));
  const nbp = f.tftp.find((t) => t.ok && NBP.test(t.file)) ?? (httpNbp && httpNbp.status < 400 && httpNbp.complete ? httpNbp : undefined);
  const scripts = f.http.filter(isScript);
  const arts = f.http.filter((x) => isArtifact(x.uri));
  const tftpArts = f.tftp.filter((t) => t.ok && t.file.includes('/artifacts/'));
  const bootfile = first.bootfile ?? '';
  const viaTftp = bootfile !== '' && !/^https?:\/\//.test(bootfile);
  if (httpNbp && !nbp) return fail('nbp', `boot file ${httpNbp.uri}: HTTP ${httpNbp.status}${httpNbp.complete ? '' : ', interrupted'}`, 'UEFI HTTP Boot fetches the NBP over HTTP: is it on the stack (pvmlab pxe explain <mac>)?');
  if ((viaTftp || NBP.test(bootfile)) && !nbp && !scripts.length && !arts.length) {
    if (tftpErr) return fail('nbp', `boot file ${bootfile} not fetched: TFTP ${tftpErr.error}${tftpErr.file ? ` (${tftpErr.file})` : ''}`, 'is the file in the TFTP root (pvmlab pxe explain <mac>)?');
    return stop('nbp', `lease given, boot file ${bootfile} never fetched`, viaTftp ? 'the client got its address but no TFTP transfer finished: check next-server and the firewall' : 'the client got its address but never asked the HTTP server for the NBP');
  }
  if (!viaTftp && !nbp && !scripts.length && !arts.length) {
    return stop('script', `lease given, boot file ${bootfile || '(none)'} never fetched`, bootfile ? 'the client got its address but never asked the HTTP server' : 'dnsmasq gave no boot file: check the dhcp-boot rules for this client');
  }
  if (nbp && !scripts.length && !arts.length && !tftpArts.length && !has('grub')) {
    const ipxeAsked = f.rounds.some((r) => r.client === 'iPXE');
    return stop(ipxeAsked ? 'script' : 'dhcp-ipxe', ipxeAsked ? 'NBP fetched, iPXE got a lease but asked for no script' : 'NBP fetched, no iPXE script request',
      ipxeAsked ? 'check the boot file dnsmasq gives iPXE (http://…/boot.ipxe)' : 'the NBP did not start or its DHCP was not answered (wrong architecture for this firmware?)');
  }

  // ---- the script and the kernel
  const bad = (x: HttpFetch) => x.status >= 400;
  const kern = kernelFetch(f.http, f.kernel);
  if (!arts.length && !tftpArts.length) {
    if (scripts.length && scripts.every(bad)) return fail('script', `iPXE script not found (HTTP ${scripts[0].status} for ${scripts.map((x) => x.uri).join(', ')})`, 'give the target a boot profile');
    return stop('kernel-fetch', 'iPXE script fetched, no kernel requested', 'check the script (pvmlab pxe explain <mac>): a kernel line that never ran, or an exit');
  }
  if (kern && bad(kern)) return fail('kernel-fetch', `kernel ${kern.status === 404 ? '404' : `HTTP ${kern.status}`}: ${kern.uri} is not on the stack`, 'upload the artifact or fix the boot profile\'s kernel');
  if (kern && !kern.complete) return fail('kernel-fetch', `kernel download of ${kern.uri} interrupted after ${kern.bytes} of ${kern.length ?? '?'} bytes`);
  const otherBad = arts.find((x) => x !== kern && bad(x));
  if (otherBad) return fail('initrd-fetch', `initrd ${otherBad.status === 404 ? '404' : `HTTP ${otherBad.status}`}: ${otherBad.uri} is not on the stack`, 'upload the artifact or fix the boot profile\'s initrd');
  const cut = arts.find((x) => !x.complete);
  if (cut) return fail('initrd-fetch', `download of ${cut.uri} interrupted after ${cut.bytes} of ${cut.length ?? '?'} bytes`);

  // ---- the kernel on the console
  if (!has('kernel')) {
    return stop('kernel-start', 'kernel fetched, no console output: check console= on the kernel command line',
      'console=ttyS0 (x86_64) or console=ttyAMA0 (aarch64); an initrd too big for the memory also stops here');
  }
  if (!has('init')) return stop('kernel', 'the kernel started, init never ran', 'check the initrd (and rdinit=/init=)');
  return stop('userspace', 'init ran, no ready marker (PVMLAB-GUEST-READY or a login prompt) yet', 'look at the end of the serial log');
}
