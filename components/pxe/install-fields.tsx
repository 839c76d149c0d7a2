'use client';
// The profile editor's install kinds (server/lab/provisioner/install.ts): a disk image written to the target's disk
// (artifact picker + sha256), Debian's netboot installer with a preseed, Ubuntu autoinstall. Controlled fields; the
// editor saves what `installProfile` returns.
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';

export const INSTALL_OPTIONS = [
  { kind: 'image', label: 'install a disk image (raw), then boot from disk' },
  { kind: 'debian-preseed', label: 'Debian installer with a preseed, then boot from disk' },
  { kind: 'ubuntu-autoinstall', label: 'Ubuntu autoinstall, then boot from disk' },
] as const;

export interface InstallDraft { image: string; sha256: string; kernel: string; initrd: string; iso: string; cmdline: string; answers: string }

const input = 'mono rounded border px-1 dark:bg-zinc-800';

/** A draft from a saved profile (or defaults for this arch: the catalogue's Debian installer files). */
export function installDraft(p: Record<string, unknown>, arch: 'x86_64' | 'aarch64' | null): InstallDraft {
  const a = arch === 'aarch64' ? 'arm64' : 'amd64';
  const debian = p.kind !== 'debian-preseed' && p.kind !== 'ubuntu-autoinstall';
  const str = (k: string, d = '') => (typeof p[k] === 'string' ? (p[k] as string) : d);
  return {
    image: str('image'), sha256: str('sha256'), iso: str('iso'),
    kernel: debian ? `debian-12-installer-${a}-linux` : str('kernel'), initrd: debian ? `debian-12-installer-${a}-initrd.gz` : str('initrd'),
    cmdline: str('cmdline', `console=${arch === 'aarch64' ? 'ttyAMA0' : 'ttyS0'} priority=critical`),
    answers: str('preseed') || str('userData') || '',
  };
}

/** The profile to save for an install kind from a draft (the server validates every field and names the bad one). */
export function installProfile(kind: string, d: InstallDraft) {
  if (kind === 'image') return { kind: 'image' as const, image: d.image, sha256: d.sha256.trim(), format: 'raw' as const };
  if (kind === 'debian-preseed') return { kind: 'debian-preseed' as const, kernel: d.kernel, initrd: d.initrd, preseed: d.answers, cmdline: d.cmdline.trim() };
  return { kind: 'ubuntu-autoinstall' as const, kernel: d.kernel, initrd: d.initrd, iso: d.iso, userData: d.answers, cmdline: d.cmdline.trim() };
}

export function InstallFields({ kind, draft, set }: { kind: string; draft: InstallDraft; set: (d: InstallDraft) => void }) {
  const trpc = useTRPC();
  const arts = useQuery(trpc.pxe.artifacts.list.queryOptions());
  const f = (k: keyof InstallDraft) => ({ value: draft[k], onChange: (e: { target: { value: string } }) => set({ ...draft, [k]: e.target.value }) });
  if (kind === 'image') {
    return (
      <>
        <select aria-label="disk image artifact" value={draft.image} className={input} data-testid="image-artifact"
          onChange={(e) => set({ ...draft, image: e.target.value, sha256: arts.data?.find((a) => a.name === e.target.value)?.sha256 ?? draft.sha256 })}>
          <option value="">choose an artifact (a raw disk image; upload a qcow2 with pvmlab pxe profile --image FILE)</option>
          {(arts.data ?? []).map((a) => <option key={a.name} value={a.name}>{a.name}</option>)}
        </select>
        <input aria-label="image sha256" placeholder="sha256 of the image (checked before a byte is written)" {...f('sha256')} className={input} />
      </>
    );
  }
  return (
    <>
      <input aria-label="installer kernel artifact" placeholder="kernel artifact" {...f('kernel')} className={input} />
      <input aria-label="installer initrd artifact" placeholder="initrd artifact" {...f('initrd')} className={input} />
      {kind === 'ubuntu-autoinstall' && <input aria-label="ISO artifact" placeholder="Ubuntu live-server ISO artifact" {...f('iso')} className={input} />}
      <input aria-label="installer kernel command line" placeholder="console=ttyS0" {...f('cmdline')} className={input} />
      <textarea aria-label={kind === 'debian-preseed' ? 'preseed' : 'autoinstall user-data'} rows={6} {...f('answers')} className={`${input} text-xs`}
        placeholder={kind === 'debian-preseed' ? 'd-i debian-installer/locale string en_US.UTF-8\n…' : '#cloud-config\nautoinstall:\n  version: 1\n  …'} />
      <p className="text-xs text-zinc-500">Served to this target by the stack at /config/&lt;mac&gt;/ with a report of the finished install added; the target then boots from its disk until it is re-provisioned.</p>
    </>
  );
}
