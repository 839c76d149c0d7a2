import { describe, expect, it } from 'vitest';
import { renderSshConfig, sshConfigPath } from './config.ts';

const paths = { privateKey: '/h/ssh/id_ed25519', knownHosts: '/h/ssh/known_hosts', controlDir: '/tmp/pvmlab-0-0123456789ab' };

describe('renderSshConfig', () => {
  it('provisioner via its loopback forward, targets through it as jump host, key-only, lab known_hosts', () => {
    const text = renderSshConfig(paths, [
      { name: 'prov', role: 'provisioner', user: 'pvmlab', sshPort: 2222, ip: '192.168.100.1' },
      { name: 'web', role: 'target', user: 'root', sshPort: null, ip: '192.168.100.20' },
      { name: 'noip', role: 'target', user: 'root', sshPort: null, ip: null },
    ]);
    expect(text).toContain('Host prov\n  HostName 127.0.0.1\n  Port 2222\n  User pvmlab\n  HostKeyAlias pvmlab-prov\n  IdentityFile /h/ssh/id_ed25519\n');
    expect(text).toContain('Host web\n  HostName 192.168.100.20\n  Port 22\n  User root\n  ProxyJump prov\n  HostKeyAlias pvmlab-web\n');
    expect(text).not.toContain('Host noip');
    for (const line of ['IdentitiesOnly yes', 'UserKnownHostsFile /h/ssh/known_hosts', 'StrictHostKeyChecking accept-new', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no']) {
      expect(text.split(line).length - 1).toBe(2);
    }
    expect(text).not.toMatch(/StrictHostKeyChecking no/);
    expect(text.split('  ControlPath /tmp/pvmlab-0-0123456789ab/cm-%C\n').length - 1).toBe(2);
  });
  it('quotes paths with spaces', () => {
    const text = renderSshConfig({ ...paths, privateKey: '/Users/a b/key' }, [{ name: 'p', role: 'provisioner', user: 'u', sshPort: 1, ip: null }]);
    expect(text).toContain('IdentityFile "/Users/a b/key"');
  });
  it('doubles % (ssh would expand it as a token) and refuses a double quote instead of dropping it', () => {
    expect(sshConfigPath('/home/a%b/.lab/ssh/id')).toBe('/home/a%%b/.lab/ssh/id');
    expect(sshConfigPath('/tmp/run dir', '/cm-%C')).toBe('"/tmp/run dir/cm-%C"');
    expect(() => sshConfigPath('/home/a"b/key')).toThrow(/cannot write this path into ssh_config \(it has a double quote or a line break\)/);
  });
});
