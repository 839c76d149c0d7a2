import type { ReactNode } from 'react';
import type { Metadata } from 'next';
import { VmFrame } from '@/components/vm/vm-page';

export async function generateMetadata({ params }: { params: Promise<{ name: string }> }): Promise<Metadata> {
  const { name } = await params;
  let title = name;
  try { title = decodeURIComponent(name); } catch { /* keep it raw */ }
  return { title: `${title} · pvmlab` };
}

export default function VmLayout({ children }: { children: ReactNode }) {
  return <VmFrame>{children}</VmFrame>;
}
