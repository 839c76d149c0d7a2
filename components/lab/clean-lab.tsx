'use client';
// Clean the whole lab: every VM stopped and removed, the home emptied (the lab key stays). Type-to-confirm.
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button } from '../ui/bits';
import { Dialog } from '../ui/dialog';
import { errorText, useToast } from '../ui/toast';

const WORD = 'clean';

export function CleanLabButton({ vmCount }: { vmCount: number }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="danger" onClick={() => setOpen(true)} data-testid="clean-lab">Clean lab…</Button>
      <Dialog open={open} onClose={() => setOpen(false)} title="Clean the whole lab?" testId="clean-lab-dialog">
        <CleanLabForm vmCount={vmCount} onDone={() => setOpen(false)} />
      </Dialog>
    </>
  );
}

function CleanLabForm({ vmCount, onDone }: { vmCount: number; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [typed, setTyped] = useState('');
  const clean = useMutation(trpc.lab.clean.mutationOptions({
    onSuccess: (r) => { toast('info', r.removed.length ? `Removed ${r.removed.join(', ')}` : 'The lab was already empty'); onDone(); },
    onError: (e) => toast('error', errorText(e)),
    onSettled: () => { void qc.invalidateQueries(); },
  }));
  return (
    <form className="grid gap-3 text-sm" onSubmit={(e) => { e.preventDefault(); if (typed === WORD) clean.mutate({ removeKey: false }); }}>
      <p>
        This stops {vmCount === 1 ? 'the one VM' : `all ${vmCount} VMs`} of the lab, deletes their disks, seed ISOs and console
        logs, downloaded images and the lab configuration (a new private network is chosen next time). The lab’s SSH key pair stays.
      </p>
      <label htmlFor="clean-confirm" className="font-medium">Type <span className="mono rounded bg-zinc-100 px-1 dark:bg-zinc-800">{WORD}</span> to confirm</label>
      <input id="clean-confirm" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false}
        className="mono w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 dark:border-zinc-700 dark:bg-zinc-950" />
      <div className="mt-2 flex justify-end gap-2">
        <Button type="button" onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="danger" disabled={typed !== WORD || clean.isPending} data-testid="clean-lab-confirm">
          {clean.isPending ? 'Cleaning…' : 'Clean the lab'}
        </Button>
      </div>
    </form>
  );
}
