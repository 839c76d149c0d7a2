// Layered, left-to-right layout of the lab graph with ELK. Children of a compound node (the provisioner's
// Docker and pxeboot) are placed inside it, below its header; their positions are relative to it.
import type { ELK, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { TopoGraph } from './graph';

export interface Box { x: number; y: number; width: number; height: number }

// ELK is large: load it on first use, in its own chunk, so the page's first script stays small.
let elk: Promise<ELK> | null = null;
function getElk(): Promise<ELK> {
  elk ??= import('elkjs/lib/elk.bundled.js').then(({ default: Elk }) => new Elk());
  return elk;
}

const ROOT_OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.layered.spacing.nodeNodeBetweenLayers': '48',
  'elk.spacing.nodeNode': '28',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
};

export async function layoutGraph(g: TopoGraph): Promise<Map<string, Box>> {
  const byParent = new Map<string | undefined, ElkNode[]>();
  const elkNodes = new Map<string, ElkNode>();
  for (const n of g.nodes) {
    const e: ElkNode = { id: n.id, width: n.width, height: n.height };
    if (n.headerHeight != null) {
      e.layoutOptions = {
        'elk.algorithm': 'layered',
        'elk.direction': 'RIGHT',
        'elk.padding': `[top=${n.headerHeight},left=12,bottom=12,right=12]`,
        'elk.spacing.nodeNode': '20',
        'elk.layered.spacing.nodeNodeBetweenLayers': '40',
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${n.width}, ${n.height})`,
      };
    }
    elkNodes.set(n.id, e);
    const siblings = byParent.get(n.parentId) ?? [];
    siblings.push(e);
    byParent.set(n.parentId, siblings);
  }
  for (const [parent, kids] of byParent) if (parent) elkNodes.get(parent)!.children = kids;
  const parentOf = new Map(g.nodes.map((n) => [n.id, n.parentId]));
  const rootEdges: ElkExtendedEdge[] = [];
  for (const e of g.edges) {
    // Labels are drawn on the edges by React Flow; ELK does not reserve room for them (that adds a layer).
    const edge: ElkExtendedEdge = { id: e.id, sources: [e.source], targets: [e.target] };
    const ps = parentOf.get(e.source);
    if (ps && ps === parentOf.get(e.target)) {
      const p = elkNodes.get(ps)!;
      (p.edges ??= []).push(edge);
    } else {
      rootEdges.push(edge);
    }
  }
  const root: ElkNode = { id: 'root', layoutOptions: ROOT_OPTIONS, children: byParent.get(undefined) ?? [], edges: rootEdges };
  const out = await (await getElk()).layout(root);
  const boxes = new Map<string, Box>();
  const walk = (nodes: ElkNode[] | undefined) => {
    for (const n of nodes ?? []) {
      boxes.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
      walk(n.children);
    }
  };
  walk(out.children);
  return boxes;
}
