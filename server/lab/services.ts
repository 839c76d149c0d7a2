// The domain services of one panel process (or one CLI invocation): built from the lab home on disk.
import { Bus } from './bus.ts';
import { LabHome, ensureHome, type HomeInfo } from './home.ts';
import { runDoctor, type DoctorReport } from './host.ts';

export class Lab {
  readonly bus = new Bus();
  private doctorReport: Promise<DoctorReport> | null = null;

  constructor(readonly home: LabHome) {}

  static async open(home: LabHome = new LabHome()): Promise<Lab> {
    await ensureHome(home);
    return new Lab(home);
  }

  homeInfo(): Promise<HomeInfo> { return ensureHome(this.home); }

  doctor(): Promise<DoctorReport> {
    this.doctorReport ??= runDoctor();
    return this.doctorReport;
  }

  async recheck(): Promise<DoctorReport> {
    const p = runDoctor();
    this.doctorReport = p;
    const r = await p;
    this.bus.emit('host', { kind: 'doctor', checkedAt: r.checkedAt, ok: r.ok });
    return r;
  }

  async close(): Promise<void> {}
}
