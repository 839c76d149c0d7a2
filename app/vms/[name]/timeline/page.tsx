import type { Metadata } from 'next';
import { TimelineView } from '@/components/vm/timeline';

type Params = { params: Promise<{ name: string }> };

function vmName(raw: string): string {
  try { return decodeURIComponent(raw); } catch { return raw; }
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: `${vmName((await params).name)} · timeline · pvmlab` };
}

export default function TimelinePage() {
  return <TimelineView />;
}
