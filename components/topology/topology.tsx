'use client';
// The topology picture: the lab graph laid out by ELK (layered, left to right), drawn by React Flow,
// coloured by live status. Layout runs only when the shape changes; status and addresses update in place.
import '@xyflow/react/dist/style.css';
import { useEffect, useMemo, useState } from 'react';
import { Background, Controls, ReactFlow, useReactFlow, type Edge } from '@xyflow/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useTRPC } from '../trpc';
import { buildGraph, layoutKey, type DockerStatus, type TopoGraph } from './graph';
import { layoutGraph, type Box } from './layout';
import { nodeTypes, type BoxNode } from './nodes';

/** The document's theme (the `dark` class on <html>), followed live. */
function useDarkClass(): boolean {
  const [dark, setDark] = useState(false);
  useEffect(() => {
    const el = document.documentElement;
    const read = () => setDark(el.classList.contains('dark'));
    read();
    const mo = new MutationObserver(read);
    mo.observe(el, { attributes: true, attributeFilter: ['class'] });
    return () => mo.disconnect();
  }, []);
  return dark;
}

/**
 * Docker and the pxeboot container, from provisioner.docker.status (over SSH, so only while the provisioner
 * runs), refreshed when the server pushes a pxe "docker" event. Unknown when it cannot tell.
 */
function useDockerStatus(provisioner: { name: string; status: string } | undefined): DockerStatus | null {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const running = provisioner?.status === 'running';
  const q = useQuery(trpc.provisioner.docker.status.queryOptions(undefined, { enabled: running, retry: false, staleTime: 30_000 }));
  useSubscription(trpc.pxe.events.subscriptionOptions(undefined, {
    enabled: running,
    onData: (e) => { if (e.kind === 'docker') void qc.invalidateQueries(trpc.provisioner.docker.status.queryFilter()); },
  }));
  // The provisioner's readiness job starts Docker and the container: look again at each of its stages.
  const jobs = useQuery(trpc.jobs.list.queryOptions());
  const readiness = jobs.data?.find((j) => j.kind === 'provisioner' && j.vm === provisioner?.name);
  const stamp = readiness ? `${readiness.id}:${readiness.stage}:${readiness.state}` : '';
  useEffect(() => {
    if (stamp && running) void qc.invalidateQueries(trpc.provisioner.docker.status.queryFilter());
  }, [stamp, running, qc, trpc]);
  if (!running) return null;
  if (q.isError) return { docker: 'unknown', pxeboot: 'unknown', detail: q.error.message };
  if (!q.data) return null;
  const c = q.data.container;
  // The query answered, so the Docker engine in the provisioner did.
  return { docker: 'running', pxeboot: c.running ? 'running' : c.exists ? 'stopped' : 'absent', detail: c.health ?? c.status };
}

const FIT = { padding: 0.05, maxZoom: 1 };

/** Fit the picture again when the frame changes size (the first fit is React Flow's fitView). */
function FitOnResize({ width, height }: { width: number; height: number }) {
  const rf = useReactFlow();
  useEffect(() => {
    const t = setTimeout(() => { void rf.fitView(FIT); }, 50);
    return () => clearTimeout(t);
  }, [rf, width, height]);
  return null;
}

/** An element's width, followed as it resizes. */
function useWidth(el: HTMLElement | null): number {
  const [w, setW] = useState(0);
  useEffect(() => {
    if (!el) return;
    setW(el.clientWidth);
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return w;
}

function useLabGraph(): { graph: TopoGraph; ready: boolean } {
  const trpc = useTRPC();
  const vms = useQuery(trpc.vm.list.queryOptions());
  const config = useQuery(trpc.lab.config.queryOptions());
  const network = useQuery(trpc.network.status.queryOptions());
  // After the list: a first doctor run takes a while and would hold up the batch it shares with vm.list.
  const doctor = useQuery(trpc.host.doctor.queryOptions(undefined, { enabled: vms.isSuccess }));
  const prov = vms.data?.find((v) => v.role === 'provisioner');
  const docker = useDockerStatus(prov);
  const d = doctor.data;
  const graph = useMemo(() => buildGraph({
    vms: vms.data ?? [],
    config: config.data,
    network: network.data,
    host: d ? { distro: d.os.distro, cpuArch: d.os.cpuArch, accelerator: d.accelerator.accelerator } : undefined,
    docker,
  }), [vms.data, config.data, network.data, d, docker]);
  return { graph, ready: vms.isSuccess };
}

export function Topology() {
  const { graph, ready } = useLabGraph();
  const dark = useDarkClass();
  const key = layoutKey(graph);
  const [layout, setLayout] = useState<{ key: string; boxes: Map<string, Box> } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [box, setBox] = useState<HTMLDivElement | null>(null);
  const width = useWidth(box);

  useEffect(() => {
    if (!ready) return;
    let live = true;
    layoutGraph(graph).then(
      (boxes) => { if (live) { setLayout({ key, boxes }); setError(null); } },
      (e: Error) => { if (live) setError(e.message); },
    );
    return () => { live = false; };
    // The layout depends on the graph's shape only (its key), not on status or addresses.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, ready]);

  const { nodes, edges, bounds } = useMemo(() => {
    const boxes = layout?.boxes;
    const nodes: BoxNode[] = [];
    let bottom = 0;
    let right = 0;
    for (const n of graph.nodes) {
      const b = boxes?.get(n.id);
      if (!b || (n.parentId && !boxes?.has(n.parentId))) continue;
      if (!n.parentId) { bottom = Math.max(bottom, b.y + b.height); right = Math.max(right, b.x + b.width); }
      nodes.push({
        id: n.id, type: 'box', position: { x: b.x, y: b.y }, width: b.width, height: b.height, data: n.data,
        parentId: n.parentId, extent: n.parentId ? 'parent' : undefined,
        draggable: false, selectable: false, connectable: false, focusable: false,
        style: { width: b.width, height: b.height },
      });
    }
    const ids = new Set(nodes.map((n) => n.id));
    const edges: Edge[] = graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({
      id: e.id, source: e.source, target: e.target, label: e.label, type: 'smoothstep', focusable: false, selectable: false,
      labelStyle: { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', fontSize: 10 },
      labelBgPadding: [3, 1] as [number, number],
    }));
    return { nodes, edges, bounds: { width: right, height: bottom } };
  }, [graph, layout]);
  // As tall as the picture needs at the zoom that fits its width (at most 1:1), within bounds.
  const zoom = bounds.width && width ? Math.min(1, (width * 0.94) / bounds.width) : 1;
  const height = Math.round(Math.min(640, Math.max(220, bounds.height * zoom / 0.9 + 16)));

  return (
    <div ref={setBox} data-testid="topology" data-layout={layout?.key === key ? 'ready' : 'pending'} className="relative w-full overflow-hidden rounded-md border border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-950" style={{ height }}>
      {error && <p className="p-4 text-sm text-red-600">Could not lay out the topology: {error}</p>}
      {!layout && !error && <p className="p-4 text-sm text-zinc-500">Drawing the lab…</p>}
      {layout && (
        <ReactFlow
          key={layout.key}
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          colorMode={dark ? 'dark' : 'light'}
          fitView
          fitViewOptions={FIT}
          minZoom={0.2}
          nodesDraggable={false}
          nodesConnectable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          elementsSelectable={false}
          zoomOnScroll={false}
          zoomOnDoubleClick={false}
          panOnScroll={false}
          preventScrolling={false}
          aria-label="lab topology"
        >
          <Background gap={20} size={1} />
          <FitOnResize width={width} height={height} />
          <Controls showInteractive={false} position="top-right" orientation="horizontal" />
        </ReactFlow>
      )}
    </div>
  );
}
