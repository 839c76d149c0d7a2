'use client';
// A modal dialog on the native <dialog> element: the rest of the page is inert while it is open, Tab and
// Shift+Tab cycle inside it, Escape closes it, and focus returns to whatever opened it.
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { Button } from './bits';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function Dialog({ open, onClose, title, description, children, testId, wide = false }: {
  open: boolean;
  onClose: () => void;
  title: ReactNode;
  description?: ReactNode;
  children: ReactNode;
  testId?: string;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();

  useEffect(() => {
    const d = ref.current;
    if (!d || !open) return;
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    // Focus the marked control, else the first field, else the first control (not the close button).
    const first = d.querySelector<HTMLElement>('[data-autofocus]') ?? d.querySelector<HTMLElement>('input, select, textarea') ?? d.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    // Closed or unmounted: leave the top layer and give focus back to whatever opened the dialog.
    return () => {
      if (d.open) d.close();
      if (opener?.isConnected && typeof opener.focus === 'function') opener.focus();
    };
  }, [open]);

  function onKeyDown(e: React.KeyboardEvent<HTMLDialogElement>) {
    if (e.key !== 'Tab') return;
    const items = [...(ref.current?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? [])].filter((el) => el.offsetParent !== null || el === document.activeElement);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !ref.current?.contains(document.activeElement))) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  }

  return (
    <dialog
      ref={ref}
      data-testid={testId}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onCancel={(e) => { e.preventDefault(); onClose(); }}
      onKeyDown={onKeyDown}
      className={`m-auto w-[calc(100%-2rem)] ${wide ? 'max-w-2xl' : 'max-w-md'} rounded-lg border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-black/50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
    >
      {open && (
        <div className="flex max-h-[85vh] flex-col">
          <div className="flex items-start gap-3 border-b border-zinc-200 px-5 py-3 dark:border-zinc-800">
            <div>
              <h2 id={titleId} className="text-base font-semibold">{title}</h2>
              {description && <p id={descId} className="mt-0.5 text-sm text-zinc-500">{description}</p>}
            </div>
            <button type="button" onClick={onClose} aria-label="close"
              className="ml-auto rounded px-2 py-0.5 text-lg leading-none text-zinc-500 hover:bg-zinc-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 dark:hover:bg-zinc-800">×</button>
          </div>
          <div className="overflow-y-auto px-5 py-4">{children}</div>
        </div>
      )}
    </dialog>
  );
}

/** A yes/no question about something destructive. */
export function ConfirmDialog({ open, onClose, onConfirm, title, children, confirmLabel, pending = false, testId }: {
  open: boolean;
  onClose: () => void;
  onConfirm: () => void;
  title: ReactNode;
  children: ReactNode;
  confirmLabel: string;
  pending?: boolean;
  testId?: string;
}) {
  return (
    <Dialog open={open} onClose={onClose} title={title} testId={testId}>
      <div className="text-sm">{children}</div>
      <div className="mt-5 flex justify-end gap-2">
        <Button type="button" onClick={onClose} data-autofocus>Cancel</Button>
        <Button type="button" variant="danger" onClick={onConfirm} disabled={pending} data-testid="confirm">{pending ? 'Working…' : confirmLabel}</Button>
      </div>
    </Dialog>
  );
}
