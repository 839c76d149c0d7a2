'use client';
// Boot artifacts: list with size and sha256, upload with progress (streamed to the provisioner), remove.
import { useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { KEY_HEADER, sessionKey } from '../session-key';
import { Button, Card, Empty } from '../ui/bits';
import { errorText, useToast } from '../ui/toast';

function upload(file: File, onProgress: (f: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/upload/artifact?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader(KEY_HEADER, sessionKey());
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      if (xhr.status === 200) resolve();
      else { try { reject(new Error(JSON.parse(xhr.responseText).error)); } catch { reject(new Error(`upload failed: HTTP ${xhr.status}`)); } }
    };
    xhr.onerror = () => reject(new Error('upload failed: connection error'));
    xhr.send(file);
  });
}

export function ArtifactsCard({ enabled }: { enabled: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const list = useQuery({ ...trpc.pxe.artifacts.list.queryOptions(), enabled, retry: false });
  const remove = useMutation(trpc.pxe.artifacts.remove.mutationOptions({ onError: (e) => toast('error', errorText(e)), onSettled: () => qc.invalidateQueries() }));
  const [progress, setProgress] = useState<{ name: string; f: number } | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setProgress({ name: file.name, f: 0 });
    try {
      await upload(file, (f) => setProgress({ name: file.name, f }));
      toast('info', `uploaded ${file.name}`);
    } catch (e) { toast('error', errorText(e)); } finally { setProgress(null); void qc.invalidateQueries(); if (input.current) input.current.value = ''; }
  };
  return (
    <Card title="Artifacts" actions={<label className={`rounded-md border px-3 py-1.5 text-sm ${enabled ? 'cursor-pointer' : 'opacity-50'}`}>
      Upload…<input ref={input} type="file" className="sr-only" disabled={!enabled || !!progress} onChange={(e) => onFile(e.target.files?.[0])} />
    </label>}>
      {progress && (
        <div className="mb-2 text-sm" data-testid="upload-progress">
          {progress.name}: {(progress.f * 100).toFixed(0)}%
          <div className="h-2 rounded bg-zinc-200 dark:bg-zinc-800"><div className="h-2 rounded bg-sky-500" style={{ width: `${progress.f * 100}%` }} /></div>
        </div>
      )}
      {!enabled ? <p className="text-sm text-zinc-500">Artifacts live in the running provisioner (served at http://&lt;provisioner&gt;/artifacts/).</p>
        : !list.data?.length ? <Empty>No artifacts: upload kernels, initrds, images or iPXE scripts.</Empty> : (
          <table className="w-full text-sm">
            <thead><tr className="text-left text-zinc-500"><th className="py-1">Name</th><th>Size</th><th>sha256</th><th /></tr></thead>
            <tbody>{list.data.map((a) => (
              <tr key={a.name} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="mono py-1">{a.name}</td><td>{(a.size / 2 ** 20).toFixed(1)} MiB</td><td className="mono text-xs">{a.sha256.slice(0, 16)}…</td>
                <td><Button variant="danger" onClick={() => remove.mutate({ name: a.name })}>Remove</Button></td>
              </tr>
            ))}</tbody>
          </table>
        )}
    </Card>
  );
}
