import type { Metadata } from 'next';
import { SshConsole } from '@/components/terminal/ssh-console';

type Params = { params: Promise<{ name: string }> };

function vmName(raw: string): string {
  try { return decodeURIComponent(raw); } catch { return raw; }
}

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  return { title: `${vmName((await params).name)} · ssh · pvmlab` };
}

export default async function ConsolePage({ params }: Params) {
  const { name } = await params;
  return <SshConsole name={vmName(name)} />;
}
