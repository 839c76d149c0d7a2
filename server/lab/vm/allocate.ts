// Allocating what each VM must have to itself: a MAC address and a loopback TCP port (the provisioner's SSH forward).
import crypto from 'node:crypto';
import net from 'node:net';

/** A random locally administered MAC in QEMU's 52:54:00 prefix, not in `used`. */
export function randomMac(used: Set<string>): string {
  for (;;) {
    const b = crypto.randomBytes(3);
    const mac = `52:54:00:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
    if (!used.has(mac)) return mac;
  }
}

/** A TCP port free on 127.0.0.1 right now (the kernel's pick), not in `exclude`. Racy by nature: callers re-check at use. */
export function freePort(exclude: Set<number> = new Set()): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => (exclude.has(p) ? freePort(exclude).then(resolve, reject) : resolve(p)));
    });
  });
}
