import type { Metadata } from 'next';
import { SerialConsole } from '@/components/terminal/serial-console';

type Params = { params: Promise<{ name: string }> };

function vmName(raw: string): string {
  try { return decodeURIComponent(raw); } catch { return raw; }
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: `${vmName((await params).name)} · serial · pvmlab` };
}

export default async function SerialPage({ params }: Params) {
  const { name } = await params;
  return <SerialConsole name={vmName(name)} />;
}
