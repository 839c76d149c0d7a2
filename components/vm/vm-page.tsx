'use client';
// The frame of every /vms/<name> page: the VM's name, live status and actions, and the tabs
// Overview / Logs / Serial / Console / Snapshots / Timeline. A VM that does not exist gets a clear message and a way home.
import type { ReactNode } from 'react';
import Link from 'next/link';
import { useParams, usePathname, useRouter } from 'next/navigation';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { StatusChip } from '../ui/bits';
import { NAME_RE } from '@/server/lab/spec';
import { VmActions } from './actions';
import { useVmEvents } from './live';

/** The VM name of the current route, decoded. */
export function useVmName(): string {
  const params = useParams<{ name: string }>();
  const raw = params?.name ?? '';
  try { return decodeURIComponent(raw); } catch { return raw; }
}

/** vm.get for the current route; `missing` when the name is invalid or no such VM exists. */
export function useVm(name: string) {
  const trpc = useTRPC();
  const valid = NAME_RE.test(name);
  const q = useQuery(trpc.vm.get.queryOptions({ name }, {
    enabled: valid,
    retry: (n, e) => e.data?.code !== 'NOT_FOUND' && e.data?.code !== 'BAD_REQUEST' && n < 1,
  }));
  const code = q.error?.data?.code;
  return { q, vm: q.data, missing: !valid || code === 'NOT_FOUND' || code === 'BAD_REQUEST' };
}

const TABS = [
  { sub: '', label: 'Overview' },
  { sub: '/logs', label: 'Logs' },
  { sub: '/serial', label: 'Serial' },
  { sub: '/console', label: 'Console' },
  { sub: '/snapshots', label: 'Snapshots' },
  { sub: '/timeline', label: 'Timeline' },
];

export function VmFrame({ children }: { children: ReactNode }) {
  const name = useVmName();
  useVmEvents();
  const { q, vm, missing } = useVm(name);
  const pathname = usePathname();
  const router = useRouter();
  const base = `/vms/${encodeURIComponent(name)}`;

  if (missing) {
    return (
      <div className="grid gap-3" data-testid="vm-missing">
        <h1 className="text-xl font-semibold">No VM named <span className="mono">{name}</span></h1>
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          {NAME_RE.test(name) ? 'It may have been cleaned, or the address has a typo.' : 'That is not a valid VM name (lowercase letters, digits and "-", starting with a letter).'}
          {' '}See every VM of the lab on the <Link href="/" className="text-sky-700 underline dark:text-sky-400" data-testid="home-link">lab page</Link>.
        </p>
      </div>
    );
  }

  return (
    <div className="grid grid-cols-[minmax(0,1fr)] gap-4">
      <div className="flex flex-wrap items-center gap-3">
        <nav aria-label="breadcrumb" className="text-sm text-zinc-500">
          <Link href="/" className="hover:underline">Lab</Link> <span aria-hidden>/</span>
        </nav>
        <h1 className="mono text-xl font-semibold" data-testid="vm-name" data-loaded={vm ? 'yes' : 'no'}>{vm?.name ?? name}</h1>
        <span data-testid="vm-status">{vm ? <StatusChip status={vm.status} /> : <span className="text-sm text-zinc-500">…</span>}</span>
        {vm && <span className="text-sm text-zinc-500">{vm.role} · <span className="mono">{vm.arch}</span></span>}
        <div className="ml-auto">
          {vm && <VmActions vm={vm} onCleaned={() => router.push('/')} />}
        </div>
      </div>
      {q.isError && !missing && <p role="alert" className="text-sm text-red-600">Could not read this VM: {q.error.message}</p>}
      <nav aria-label="VM sections" className="flex gap-1 border-b border-zinc-200 dark:border-zinc-800">
        {TABS.map((t) => {
          const href = base + t.sub;
          const active = t.sub === '' ? pathname === base || pathname === `/vms/${name}` : pathname.startsWith(href) || pathname.startsWith(`/vms/${name}${t.sub}`);
          return (
            <Link key={t.label} href={href} aria-current={active ? 'page' : undefined} data-testid={`vm-tab-${t.label.toLowerCase()}`}
              className={`-mb-px border-b-2 px-3 py-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 ${active
                ? 'border-sky-600 font-medium text-sky-700 dark:border-sky-400 dark:text-sky-400'
                : 'border-transparent text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100'}`}>
              {t.label}
            </Link>
          );
        })}
      </nav>
      <div className="min-w-0">{children}</div>
    </div>
  );
}
