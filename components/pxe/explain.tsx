'use client';
// "What will this MAC get?": the profile dry run (server/lab/provisioner/explain.ts) for a MAC or target, with a
// firmware and HTTP Boot choice — the DHCP exchanges with the tags the stack's boot rules set, the boot files, the
// iPXE script or GRUB config and the kernel command line.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Card } from '../ui/bits';

type Fw = '' | 'bios' | 'uefi';

export function ExplainCard({ choices }: { choices: { label: string; value: string }[] }) {
  const trpc = useTRPC();
  const [who, setWho] = useState('');
  const [firmware, setFirmware] = useState<Fw>('');
  const [http, setHttp] = useState(false);
  const target = who || choices[0]?.value || '';
  const q = useQuery({
    ...trpc.pxe.explain.queryOptions({ who: target, ...(firmware ? { firmware } : {}), ...(http ? { http: true } : {}) }),
    enabled: target !== '', retry: false,
  });
  const x = q.data;
  return (
    <Card title="What will this MAC get? (dry run)">
      <div className="mb-3 flex flex-wrap items-end gap-3 text-sm">
        <label className="grid gap-1">MAC or target
          <input list="explain-who" value={who} onChange={(e) => setWho(e.target.value)} placeholder={choices[0]?.value ?? '52:54:00:12:34:56'}
            className="mono rounded-md border border-zinc-300 px-2 py-1 dark:border-zinc-700 dark:bg-zinc-950" data-testid="explain-who" />
          <datalist id="explain-who">{choices.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}</datalist>
        </label>
        <label className="grid gap-1">Firmware
          <select value={firmware} onChange={(e) => setFirmware(e.target.value as Fw)} data-testid="explain-firmware"
            className="rounded-md border border-zinc-300 px-2 py-1 dark:border-zinc-700 dark:bg-zinc-950">
            <option value="">the VM’s own</option><option value="bios">bios</option><option value="uefi">uefi</option>
          </select>
        </label>
        <label className="flex items-center gap-1"><input type="checkbox" checked={http} onChange={(e) => setHttp(e.target.checked)} data-testid="explain-http" /> UEFI HTTP Boot</label>
      </div>
      {q.error && <p role="alert" className="text-sm text-red-600 dark:text-red-400">{q.error.message}</p>}
      {x && (
        <div className="grid gap-2 text-sm" data-testid="explain-result">
          <p><span className="mono">{x.mac}</span>: {x.clientLabel}{x.reservation ? `, reserved ${x.reservation.ip} (${x.reservation.hostname})` : ', no reservation'}</p>
          <ol className="grid list-decimal gap-2 pl-5">
            {x.steps.map((s) => (
              <li key={s.client}>
                DHCP from {s.client}: option 93 = <span className="mono">{s.sends.arch ?? '–'}</span>, vendor class <span className="mono">{s.sends.vendorClass ?? '–'}</span>{s.sends.userClass && <>, user class <span className="mono">{s.sends.userClass}</span></>}
                <ul className="text-zinc-600 dark:text-zinc-400">
                  {s.tags.map((t) => <li key={t.why}>tag <span className="mono">{t.tag}</span>: {t.why}</li>)}
                  {s.options.map((o) => <li key={o.code}>option {o.code} ({o.name}) <span className="mono">{o.value}</span>: {o.why}</li>)}
                  <li data-testid="explain-bootfile">boot file: {s.bootFile ? <span className="mono">{s.bootFile}</span> : 'none'}{s.nextServer ? ` over TFTP from ${s.nextServer}` : s.bootFile ? ' over HTTP' : ''}</li>
                </ul>
              </li>
            ))}
          </ol>
          {x.script && <div>{x.script.loader === 'ipxe' ? 'iPXE script' : 'GRUB config'} <span className="mono">{x.script.path}</span>
            <pre className="mono mt-1 max-h-64 overflow-auto rounded bg-zinc-950 p-2 text-xs text-zinc-200">{x.script.text ?? '(none: see the notes)'}</pre></div>}
          {x.kernelCmdline !== null && <p>Kernel command line: <span className="mono" data-testid="explain-cmdline">{x.kernelCmdline}</span></p>}
          {x.notes.map((n) => <p key={n} className="text-zinc-500">{n}</p>)}
        </div>
      )}
    </Card>
  );
}
