import { DoctorView } from '@/components/setup/doctor';
import { NetworkCard } from '@/components/setup/network';

export default function SetupPage() {
  return (
    <div className="grid gap-4">
      <h1 className="text-xl font-semibold">Setup</h1>
      <DoctorView />
      <NetworkCard />
    </div>
  );
}
