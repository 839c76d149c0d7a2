'use client';
import type { ReactNode, ButtonHTMLAttributes } from 'react';

export function Card({ title, children, actions }: { title?: ReactNode; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="rounded-lg border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
      {(title || actions) && (
        <div className="mb-3 flex items-center gap-2">
          {title && <h2 className="text-sm font-semibold uppercase tracking-wide text-zinc-500">{title}</h2>}
          <div className="ml-auto flex gap-2">{actions}</div>
        </div>
      )}
      {children}
    </section>
  );
}

export function Button({ variant = 'default', className = '', ...rest }: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: 'default' | 'primary' | 'danger' }) {
  const styles = {
    default: 'border border-zinc-300 bg-white hover:bg-zinc-100 dark:border-zinc-700 dark:bg-zinc-800 dark:hover:bg-zinc-700',
    primary: 'bg-sky-600 text-white hover:bg-sky-500',
    danger: 'bg-red-600 text-white hover:bg-red-500',
  }[variant];
  return <button className={`rounded-md px-3 py-1.5 text-sm font-medium disabled:opacity-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 ${styles} ${className}`} {...rest} />;
}

const CHIP: Record<string, string> = {
  running: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  ok: 'bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300',
  starting: 'bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300',
  stopping: 'bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300',
  stopped: 'bg-zinc-200 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300',
  crashed: 'bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300',
  missing: 'bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300',
  rejected: 'bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300',
};

export function StatusChip({ status }: { status: string }) {
  return <span data-status={status} className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ${CHIP[status] ?? CHIP.stopped}`}>{status}</span>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="rounded-md border border-dashed border-zinc-300 p-6 text-center text-sm text-zinc-500 dark:border-zinc-700">{children}</div>;
}
