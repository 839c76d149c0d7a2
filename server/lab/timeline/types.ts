// The boot flight recorder's data: what one boot of a target did, from power-on to its ready marker, as stages
// on one time axis (ms since power-on, host clock). Browser-safe (types only): the VM page's chart reads it.

export type StageId =
  | 'firmware' | 'dhcp' | 'nbp' | 'dhcp-ipxe' | 'script' | 'kernel-fetch' | 'initrd-fetch'
  | 'kernel-start' | 'kernel' | 'userspace' | 'callhome';

export type StageStatus = 'done' | 'running' | 'failed';

/** A stage of a boot: [start, end] in ms since power-on; `detail` says what was fetched or seen. */
export interface TimelineStage {
  id: StageId;
  label: string;
  start: number;
  end: number;
  status: StageStatus;
  detail: string;
}

export type EventSource = 'vm' | 'dhcp' | 'tftp' | 'http' | 'console' | 'callhome';

/** One raw event of the boot (a DHCP message, a transfer, a console milestone), at ms since power-on. */
export interface TimelineEvent {
  t: number;
  /** for transfers: how long it took (ms) */
  dur?: number;
  source: EventSource;
  label: string;
  detail: string;
  /** a failure at this event (an HTTP 4xx/5xx, a TFTP error, a DHCPNAK, a kernel panic) */
  bad?: boolean;
}

/** Where a boot stopped and why, in a person's words; null stage = it reached its ready marker. */
export interface Diagnosis {
  ok: boolean;
  /** still going (the VM runs and its last event is recent) rather than stuck */
  inProgress: boolean;
  stage: StageId | null;
  cause: string;
  hint: string | null;
}

export interface Timeline {
  vm: string;
  mac: string;
  ip: string | null;
  /** ISO time of this boot's power-on (or resume / reset) */
  poweredOnAt: string;
  bootKind: 'power on' | 'resume' | 'reset';
  /** this boot's index among the boots in the console log (0 = first) and how many there are */
  boot: number;
  boots: number;
  /** "ipxe-rom" | "bios-pxe" | "uefi-pxe" | "uefi-http" | "grub" | null: the path the DHCP/TFTP/HTTP events show */
  path: string | null;
  stages: TimelineStage[];
  events: TimelineEvent[];
  diagnosis: Diagnosis;
  clock: {
    /** the provisioner's clock minus the host's (ms) and the measurement's uncertainty (± ms); null: not measured */
    provisionerOffsetMs: number | null;
    uncertaintyMs: number | null;
    /** console lines have times (the console clock ran during this boot) */
    consoleTimed: boolean;
    /** why some sources are missing (provisioner down, logs unreadable) */
    notes: string[];
  };
}
