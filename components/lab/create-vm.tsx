'use client';
// Create a provisioner or a target: a form that validates as you type with the same zod schema the server
// uses (vmCreateInput), plus the lab-level checks the server makes (subnet, DHCP range, names and addresses
// already taken). Server errors land on their fields (data.fields) and in a toast.
import { useMemo, useRef, useState, type ReactNode } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../trpc';
import { Button } from '../ui/bits';
import { Dialog } from '../ui/dialog';
import { Progress } from '../ui/progress';
import { errorText, useToast } from '../ui/toast';
import { ipv4, vmCreateInput, type Role, type VmCreateInput } from '@/server/lab/spec';
import { addressPlan, ipHolders, ipProblem } from '@/server/lab/addressing';

const FIELDS = ['name', 'arch', 'cpus', 'memory', 'boot', 'firmware', 'secureBoot', 'netboot', 'image', 'diskSize', 'kernel', 'initrd', 'append', 'mac', 'ip', 'sshUser'] as const;
type Field = (typeof FIELDS)[number];
type Values = Record<Field, string>;

const LABEL: Record<Field, string> = {
  name: 'Name', arch: 'Architecture', cpus: 'CPUs', memory: 'Memory', boot: 'Boot', firmware: 'Firmware', secureBoot: 'Secure Boot', netboot: 'Network boot', image: 'Image', diskSize: 'Disk size',
  kernel: 'Kernel', initrd: 'Initrd', append: 'Kernel command line', mac: 'MAC address', ip: 'Private IP', sshUser: 'SSH user',
};

function help(field: Field, role: Role, net?: { subnet: string; dhcpStart: string; dhcpEnd: string; provisionerIp: string }): string {
  switch (field) {
    case 'name': return 'Lowercase letters, digits and "-", starting with a letter (1–32); also the guest’s hostname.';
    case 'arch': return 'The guest’s CPU architecture; a foreign one is emulated and boots slower.';
    case 'cpus': return 'Virtual CPUs, 1–16.';
    case 'memory': return 'RAM, e.g. 512M or 2G (128 MiB – 64 GiB).';
    case 'boot': return role === 'provisioner'
      ? 'disk: boot a cloud image; kernel: load a kernel + initrd directly.'
      : 'pxe: boot over the network from the provisioner; disk: boot a cloud image; kernel: load a kernel + initrd directly.';
    case 'firmware': return 'bios: SeaBIOS (the NIC’s iPXE ROM does the network boot); uefi: OVMF, with this VM’s own copy of its UEFI variables.';
    case 'secureBoot': return 'on: OVMF’s Secure Boot build with Microsoft’s keys (needs it on this host; unsigned loaders such as iPXE are refused).';
    case 'netboot': return 'pxe: UEFI PXE (DHCP option 93 = 7, the NBP over TFTP); http: UEFI HTTP Boot (vendor class HTTPClient, the NBP by http:// URL, no TFTP).';
    case 'image': return 'A catalogue name (ubuntu-24.04, downloaded once) or an absolute path to a qcow2/raw file.';
    case 'diskSize': return 'Size of the VM’s own disk, e.g. 10G (a copy-on-write overlay when booting an image).';
    case 'kernel': return 'Absolute path on this computer to the kernel image (vmlinuz).';
    case 'initrd': return 'Absolute path to the initramfs; optional.';
    case 'append': return 'Kernel command line, e.g. console=ttyS0 (the serial console is ttyS0 on x86_64, ttyAMA0 on aarch64).';
    case 'mac': return 'The private NIC’s MAC; leave empty for a random locally administered one (52:54:00:…).';
    case 'ip': return role === 'provisioner'
      ? `The provisioner’s private address; empty means ${net?.provisionerIp ?? 'the lab default'}.`
      : `A fixed address in ${net?.subnet ?? 'the private network'}, outside DHCP ${net ? `${net.dhcpStart}–${net.dhcpEnd}` : 'range'}; empty means DHCP.`;
    case 'sshUser': return 'The user the lab’s SSH key logs in as. Empty: root on a PXE target (the live system), pvmlab otherwise (cloud-init makes it).';
  }
}

function initial(role: Role, arch: string): Values {
  return role === 'provisioner'
    ? { name: 'provisioner', arch, cpus: '2', memory: '2G', boot: 'disk', firmware: 'bios', secureBoot: 'off', netboot: 'pxe', image: '', diskSize: '20G', kernel: '', initrd: '', append: '', mac: '', ip: '', sshUser: 'pvmlab' }
    : { name: '', arch, cpus: '1', memory: '1G', boot: 'pxe', firmware: 'bios', secureBoot: 'off', netboot: 'pxe', image: '', diskSize: '10G', kernel: '', initrd: '', append: '', mac: '', ip: '', sshUser: '' };
}

function visible(v: Values): Set<Field> {
  const s = new Set<Field>(['name', 'arch', 'cpus', 'memory', 'boot', 'mac', 'ip', 'sshUser']);
  if (v.boot === 'disk') { s.add('image'); s.add('diskSize'); }
  if (v.boot === 'pxe') s.add('diskSize');
  if (v.boot === 'kernel') { s.add('kernel'); s.add('initrd'); s.add('append'); }
  // aarch64 is always UEFI; the x86_64 firmware choice, then what UEFI offers
  if (v.arch === 'x86_64') s.add('firmware');
  if (v.arch === 'x86_64' && v.firmware === 'uefi') {
    s.add('secureBoot');
    if (v.boot === 'pxe') s.add('netboot');
  }
  return s;
}

/** What the API gets: the role, and every visible field the user filled in (empty means "the default"). */
/** The form's visible, non-empty fields as the create input (strings: the server's schema parses sizes and numbers). */
function toInput(v: Values, role: Role): VmCreateInput {
  const out: Record<string, string | boolean> = { role };
  const vis = visible(v);
  for (const f of FIELDS) {
    if (!vis.has(f) || v[f].trim() === '') continue;
    if (f === 'secureBoot') { if (v[f] === 'on') out[f] = true; continue; }
    out[f] = f === 'append' ? v[f] : v[f].trim();
  }
  return { ...out, name: out.name ?? '' } as VmCreateInput;
}

function stripField(field: string, message: string): string {
  return message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
}

export function CreateVmDialog({ role, open, onClose }: { role: Role; open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} onClose={onClose} wide testId="create-vm-dialog"
      title={role === 'provisioner' ? 'Create the provisioner' : 'Create a target'}
      description={role === 'provisioner'
        ? 'The one VM that runs Docker and the PXE stack (DHCP, TFTP, HTTP) and NATs the private network to the outside.'
        : 'A machine on the private network that boots from the provisioner, a cloud image or a kernel.'}>
      <CreateVmForm role={role} onDone={onClose} />
    </Dialog>
  );
}

function CreateVmForm({ role, onDone }: { role: Role; onDone: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const doctor = useQuery(trpc.host.doctor.queryOptions());
  const config = useQuery(trpc.lab.config.queryOptions());
  const vms = useQuery(trpc.vm.list.queryOptions());
  const reservations = useQuery(trpc.pxe.reservations.list.queryOptions());
  // Kept fresh by the lab page's jobs.events subscription.
  const jobs = useQuery(trpc.jobs.list.queryOptions());
  const hostArch = doctor.data?.os.cpuArch === 'arm64' ? 'aarch64' : 'x86_64';
  const [values, setValues] = useState<Values>(() => initial(role, hostArch));
  const [touched, setTouched] = useState<Set<Field>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Partial<Record<Field | 'input', string>>>({});
  const formRef = useRef<HTMLFormElement>(null);
  const net = config.data?.network;

  const clientErrors = useMemo(() => {
    const errs: Partial<Record<Field | 'input', string>> = {};
    const r = vmCreateInput.safeParse(toInput(values, role));
    if (!r.success) {
      for (const i of r.error.issues) {
        const f = (String(i.path[0] ?? 'input')) as Field | 'input';
        errs[f] ??= stripField(f, i.message);
      }
    }
    // The lab-level checks the server makes too (it stays the authority).
    const others = vms.data ?? [];
    const name = values.name.trim();
    if (!errs.name && others.some((v) => v.name === name)) errs.name = `a VM named '${name}' already exists`;
    const mac = values.mac.trim().toLowerCase().replace(/-/g, ':');
    const macOwner = mac ? others.find((v) => v.mac === mac || v.uplinkMac === mac) : undefined;
    if (!errs.mac && macOwner) errs.mac = `${mac} is already used by VM '${macOwner.name}'`;
    const ip = values.ip.trim();
    if (!errs.ip && ip && ipv4.safeParse(ip).success && net) {
      // The server's one validator (server/lab/addressing.ts), against the same VMs and reservations.
      const held = reservations.data ?? [];
      const adopting = !!mac && held.some((r) => r.mac === mac && r.ip === ip);
      const problem = ipProblem(addressPlan(net), ip, { role, mac: mac || null, holders: ipHolders(others, held), adopting });
      if (problem) errs.ip = problem.message;
    }
    return errs;
  }, [values, role, vms.data, reservations.data, net]);

  const create = useMutation(trpc.vm.create.mutationOptions({
    onSuccess: (vm) => {
      toast('info', [`Created ${vm.name}`, ...vm.notes].join('; '));
      onDone();
    },
    onError: (e) => {
      const errs: Partial<Record<Field | 'input', string>> = {};
      for (const f of e.data?.fields ?? []) {
        const key = (FIELDS as readonly string[]).includes(f.field) ? (f.field as Field) : 'input';
        errs[key] ??= stripField(f.field, f.message);
      }
      // State conflicts (CONFLICT) name their field as a "field: " prefix.
      const m = /^(\w+): (.+)$/.exec(e.message);
      if (!Object.keys(errs).length && m && (FIELDS as readonly string[]).includes(m[1])) errs[m[1] as Field] = m[2];
      if (!Object.keys(errs).length) errs.input = e.message;
      setServerErrors(errs);
      toast('error', errorText(e));
    },
    onSettled: () => { void qc.invalidateQueries(trpc.vm.pathFilter()); },
  }));

  const vis = visible(values);
  const shownError = (f: Field): string | undefined => serverErrors[f] ?? ((touched.has(f) || submitted) && vis.has(f) ? clientErrors[f] : undefined);

  function set(f: Field, v: string) {
    setValues((old) => ({ ...old, [f]: v }));
    setTouched((t) => (t.has(f) ? t : new Set(t).add(f)));
    setServerErrors((s) => {
      if (!(f in s) && !('input' in s)) return s;
      const { [f]: _gone, input: _i, ...rest } = s;
      return rest;
    });
  }

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    const bad = FIELDS.filter((f) => vis.has(f) && clientErrors[f]);
    if (bad.length || clientErrors.input) {
      formRef.current?.querySelector<HTMLElement>(`#vm-${bad[0]}`)?.focus();
      return;
    }
    setServerErrors({});
    create.mutate(toInput(values, role));
  }

  const running = (jobs.data ?? []).filter((j) => j.state === 'running' && j.vm === values.name.trim());
  const input = (f: Field, props: { placeholder?: string; mono?: boolean } = {}) => (
    <FieldRow field={f} label={LABEL[f]} help={help(f, role, net)} error={shownError(f)}>
      <input id={`vm-${f}`} name={f} value={values[f]} onChange={(e) => set(f, e.target.value)} placeholder={props.placeholder}
        onBlur={() => setTouched((t) => (t.has(f) ? t : new Set(t).add(f)))}
        autoComplete="off" spellCheck={false}
        aria-invalid={shownError(f) ? true : undefined} aria-describedby={`vm-${f}-help${shownError(f) ? ` vm-${f}-error` : ''}`}
        className={`${inputClass(!!shownError(f))} ${props.mono === false ? '' : 'mono'}`} />
    </FieldRow>
  );
  const select = (f: Field, options: string[]) => (
    <FieldRow field={f} label={LABEL[f]} help={help(f, role, net)} error={shownError(f)}>
      <select id={`vm-${f}`} name={f} value={values[f]} onChange={(e) => set(f, e.target.value)}
        aria-invalid={shownError(f) ? true : undefined} aria-describedby={`vm-${f}-help${shownError(f) ? ` vm-${f}-error` : ''}`}
        className={inputClass(!!shownError(f))}>
        {options.map((o) => <option key={o} value={o}>{o}</option>)}
      </select>
    </FieldRow>
  );

  return (
    <form ref={formRef} onSubmit={submit} noValidate className="grid gap-3" data-testid="create-vm-form">
      <div className="grid gap-3 sm:grid-cols-2">
        {input('name', { placeholder: role === 'provisioner' ? 'provisioner' : 'target-1' })}
        {select('arch', ['x86_64', 'aarch64'])}
        {input('cpus')}
        {input('memory', { placeholder: '1G' })}
        {select('boot', role === 'provisioner' ? ['disk', 'kernel'] : ['pxe', 'disk', 'kernel'])}
        {vis.has('diskSize') && input('diskSize', { placeholder: '10G' })}
        {vis.has('firmware') && select('firmware', ['bios', 'uefi'])}
        {vis.has('secureBoot') && select('secureBoot', ['off', 'on'])}
        {vis.has('netboot') && select('netboot', ['pxe', 'http'])}
      </div>
      {vis.has('image') && input('image', { placeholder: 'ubuntu-24.04 or /path/to/image.qcow2' })}
      {vis.has('kernel') && input('kernel', { placeholder: '/path/to/vmlinuz' })}
      {vis.has('initrd') && input('initrd', { placeholder: '/path/to/initrd.img' })}
      {vis.has('append') && input('append', { placeholder: 'console=ttyS0' })}
      <div className="grid gap-3 sm:grid-cols-2">
        {input('mac', { placeholder: 'random 52:54:00:…' })}
        {input('ip', { placeholder: role === 'provisioner' ? net?.provisionerIp ?? '192.168.100.1' : 'DHCP' })}
        {input('sshUser')}
      </div>
      {(serverErrors.input || (submitted && clientErrors.input)) && (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400" data-testid="field-error-input">{serverErrors.input ?? clientErrors.input}</p>
      )}
      {create.isPending && running.map((j) => (
        <div key={j.id} className="grid gap-1 rounded-md border border-zinc-200 p-2 text-sm dark:border-zinc-800">
          <div>{j.title} <span className="text-zinc-500">— {j.stage}</span></div>
          <Progress value={j.progress} label={j.title} />
        </div>
      ))}
      <div className="mt-2 flex justify-end gap-2">
        <Button type="button" onClick={onDone}>Cancel</Button>
        <Button type="submit" variant="primary" disabled={create.isPending} data-testid="create-submit">
          {create.isPending ? 'Creating…' : role === 'provisioner' ? 'Create provisioner' : 'Create target'}
        </Button>
      </div>
    </form>
  );
}

function inputClass(bad: boolean): string {
  return `w-full rounded-md border bg-white px-2.5 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 dark:bg-zinc-950 ${
    bad ? 'border-red-500 dark:border-red-500' : 'border-zinc-300 dark:border-zinc-700'}`;
}

function FieldRow({ field, label, help: helpText, error, children }: { field: Field; label: string; help: string; error?: string; children: ReactNode }) {
  return (
    <div className="grid content-start gap-1" data-field={field}>
      <label htmlFor={`vm-${field}`} className="text-sm font-medium">{label}</label>
      {children}
      <p id={`vm-${field}-help`} className="text-xs text-zinc-500">{helpText}</p>
      {error && <p id={`vm-${field}-error`} className="text-xs text-red-600 dark:text-red-400" data-testid={`field-error-${field}`}>{error}</p>}
    </div>
  );
}
