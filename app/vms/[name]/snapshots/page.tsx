import type { Metadata } from 'next';
import { SnapshotsView } from '@/components/vm/snapshots';

type Params = { params: Promise<{ name: string }> };

function vmName(raw: string): string {
  try { return decodeURIComponent(raw); } catch { return raw; }
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: `${vmName((await params).name)} · snapshots · pvmlab` };
}

export default function SnapshotsPage() {
  return <SnapshotsView />;
}
