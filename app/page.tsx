import { LabView } from '@/components/lab/lab-view';

export default function LabPage() {
  return <LabView />;
}
