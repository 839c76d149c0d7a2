import { VmOverview } from '@/components/vm/overview';

export default function VmPage() {
  return <VmOverview />;
}
