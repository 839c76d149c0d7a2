import { PxeView } from '@/components/pxe/pxe-view';

export default function PxePage() {
  return <PxeView />;
}
