import type { Metadata } from 'next';
import { LogView } from '@/components/logs/log-view';

type Params = { params: Promise<{ name: string }> };

function vmName(raw: string): string {
  try { return decodeURIComponent(raw); } catch { return raw; }
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: `${vmName((await params).name)} · logs · pvmlab` };
}

export default async function LogsPage({ params }: Params) {
  const { name } = await params;
  return <LogView name={vmName(name)} />;
}
