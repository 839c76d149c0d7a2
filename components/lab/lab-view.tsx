'use client';
import Link from 'next/link';
import { Card, Empty } from '../ui/bits';

export function LabView() {
  return (
    <div className="grid gap-4">
      <h1 className="text-xl font-semibold" data-testid="lab-title">Lab</h1>
      <Card title="VMs">
        <Empty>No VMs yet. Check the host on the <Link className="text-sky-600 underline" href="/setup">Setup page</Link>.</Empty>
      </Card>
    </div>
  );
}
