'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { Providers } from '../trpc';
import { Toaster } from './toast';

const NAV = [
  { href: '/', label: 'Lab' },
  { href: '/pxe', label: 'PXE' },
  { href: '/setup', label: 'Setup' },
];

function toggleTheme() {
  const dark = document.documentElement.classList.toggle('dark');
  try { localStorage.theme = dark ? 'dark' : 'light'; } catch { /* private mode */ }
}

export function ClientShell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  return (
    <Providers>
      <Toaster>
        <header className="border-b border-zinc-200 dark:border-zinc-800 bg-white/70 dark:bg-zinc-900/70">
          <nav className="mx-auto flex max-w-7xl items-center gap-6 px-4 py-3" aria-label="main">
            <Link href="/" className="font-semibold tracking-tight">pvmlab</Link>
            {NAV.map((n) => {
              const active = n.href === '/' ? pathname === '/' : pathname.startsWith(n.href);
              return (
                <Link key={n.href} href={n.href} aria-current={active ? 'page' : undefined}
                  className={`text-sm ${active ? 'text-sky-600 dark:text-sky-400 font-medium' : 'text-zinc-600 dark:text-zinc-400 hover:text-zinc-900 dark:hover:text-zinc-100'}`}>
                  {n.label}
                </Link>
              );
            })}
            <button type="button" onClick={toggleTheme} className="ml-auto rounded px-2 py-1 text-sm text-zinc-500 hover:bg-zinc-100 dark:hover:bg-zinc-800" aria-label="toggle dark mode">◐</button>
          </nav>
        </header>
        <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
      </Toaster>
    </Providers>
  );
}
