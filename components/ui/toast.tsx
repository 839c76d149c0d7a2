'use client';
// Errors as toasts with the server's hint.
import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';

interface Toast { id: number; kind: 'error' | 'info'; text: string }
const Ctx = createContext<(kind: Toast['kind'], text: string) => void>(() => {});

export function useToast() { return useContext(Ctx); }

export function errorText(e: unknown): string {
  const err = e as { message?: string; data?: { fields?: { field: string; message: string }[] } };
  const fields = err.data?.fields;
  if (fields?.length) return fields.map((f) => `${f.field}: ${f.message}`).join('; ');
  return err.message ?? String(e);
}

export function Toaster({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const push = useCallback((kind: Toast['kind'], text: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, kind, text }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 10_000 : 4_000);
  }, []);
  return (
    <Ctx.Provider value={push}>
      {children}
      <div className="fixed bottom-4 right-4 z-50 flex w-96 flex-col gap-2" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} role={t.kind === 'error' ? 'alert' : undefined}
            className={`rounded-md px-4 py-3 text-sm shadow-lg ${t.kind === 'error' ? 'bg-red-600 text-white' : 'bg-zinc-800 text-white'}`}>
            {t.text}
          </div>
        ))}
      </div>
    </Ctx.Provider>
  );
}
