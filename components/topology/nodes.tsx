'use client';
// How a topology node looks: a box coloured by live status, its facts in monospace, a link for VMs.
import Link from 'next/link';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { BoxData, TopoKind } from './graph';

export type BoxNode = Node<BoxData, 'box'>;

const TONE: Record<string, { box: string; dot: string; text: string }> = {
  running: { box: 'border-emerald-500 bg-emerald-50 dark:bg-emerald-950/60', dot: 'bg-emerald-500', text: 'text-emerald-700 dark:text-emerald-300' },
  ok: { box: 'border-emerald-500 bg-emerald-50 dark:bg-emerald-950/60', dot: 'bg-emerald-500', text: 'text-emerald-700 dark:text-emerald-300' },
  starting: { box: 'border-amber-500 bg-amber-50 dark:bg-amber-950/60', dot: 'bg-amber-500', text: 'text-amber-700 dark:text-amber-300' },
  stopping: { box: 'border-amber-500 bg-amber-50 dark:bg-amber-950/60', dot: 'bg-amber-500', text: 'text-amber-700 dark:text-amber-300' },
  paused: { box: 'border-amber-500 bg-amber-50 dark:bg-amber-950/60', dot: 'bg-amber-500', text: 'text-amber-700 dark:text-amber-300' },
  crashed: { box: 'border-red-500 bg-red-50 dark:bg-red-950/60', dot: 'bg-red-500', text: 'text-red-700 dark:text-red-300' },
  missing: { box: 'border-red-500 bg-red-50 dark:bg-red-950/60', dot: 'bg-red-500', text: 'text-red-700 dark:text-red-300' },
  stopped: { box: 'border-zinc-400 bg-zinc-100 dark:border-zinc-600 dark:bg-zinc-800', dot: 'bg-zinc-400', text: 'text-zinc-600 dark:text-zinc-400' },
  unknown: { box: 'border-dashed border-zinc-400 bg-white dark:border-zinc-600 dark:bg-zinc-900', dot: 'bg-zinc-300 dark:bg-zinc-600', text: 'text-zinc-500' },
};
const NEUTRAL = 'border-zinc-300 bg-white dark:border-zinc-700 dark:bg-zinc-900';

const ICON: Record<TopoKind, string> = {
  host: '▤', netsvc: '⇄', uplink: '↗', privnet: '⎔', provisioner: '⚙', target: '▣', docker: '◫', pxeboot: '⇣', placeholder: '+',
};

function Body({ data, compound }: { data: BoxData; compound: boolean }) {
  const tone = data.status ? TONE[data.status] ?? TONE.stopped : null;
  return (
    <div className={`h-full w-full overflow-hidden rounded-lg border-2 px-2.5 py-1.5 text-left shadow-sm ${tone ? tone.box : NEUTRAL} ${data.kind === 'placeholder' ? 'border-dashed' : ''} ${compound ? '' : ''}`}>
      <div className="flex items-center gap-1.5">
        <span aria-hidden className="text-sm">{ICON[data.kind]}</span>
        <span className={`truncate text-sm font-semibold ${data.href ? 'text-sky-800 group-hover:underline dark:text-sky-300' : ''}`}>{data.title}</span>
        {data.status && (
          <span className={`ml-auto inline-flex shrink-0 items-center gap-1 text-[11px] font-medium ${tone?.text ?? ''}`} data-testid="topo-status">
            <span aria-hidden className={`h-2 w-2 rounded-full ${tone?.dot ?? ''}`} />{data.status}
          </span>
        )}
      </div>
      <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-2 text-[11px] leading-[17px]">
        {data.lines.map((l) => (
          <div key={l.k} className="contents">
            <dt className="text-zinc-500">{l.k}</dt>
            <dd className={`truncate ${l.mono ? 'mono' : ''}`} title={l.v} data-testid={l.testId}>{l.v}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

export function BoxNodeView({ data, parentId }: NodeProps<BoxNode>) {
  const compound = data.kind === 'provisioner';
  const inner = <Body data={data} compound={compound} />;
  return (
    <div className="h-full w-full" data-testid={data.testId} data-vm={data.vm} data-status={data.status} data-kind={data.kind} data-parent={parentId}>
      <Handle type="target" position={Position.Left} isConnectable={false} className="!h-1 !w-1 !min-w-0 !border-0 !bg-transparent" />
      {data.href ? (
        <Link href={data.href} aria-label={`${data.kind} ${data.title}: ${data.status ?? ''}`}
          className="group block h-full w-full rounded-lg focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500">{inner}</Link>
      ) : inner}
      <Handle type="source" position={Position.Right} isConnectable={false} className="!h-1 !w-1 !min-w-0 !border-0 !bg-transparent" />
    </div>
  );
}

export const nodeTypes = { box: BoxNodeView };
