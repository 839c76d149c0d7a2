'use client';
// VM record files the lab cannot read: listed with their file, the reason and the command that removes them.
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../trpc';

export function BrokenRecords() {
  const trpc = useTRPC();
  const q = useQuery(trpc.vm.broken.queryOptions());
  if (!q.data?.length) return null;
  return (
    <div role="alert" data-testid="broken-records" className="rounded border border-amber-400 bg-amber-50 p-3 text-sm dark:bg-amber-950">
      <p className="font-medium">Broken VM records (the rest of the lab works):</p>
      <ul className="mt-1 list-disc pl-5">
        {q.data.map((b) => (
          <li key={b.file}><code>{b.file}</code> — {b.reason}. Remove it with <code>{b.fix}</code>.</li>
        ))}
      </ul>
    </div>
  );
}
