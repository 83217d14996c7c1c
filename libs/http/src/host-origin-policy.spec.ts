import { hostname } from 'node:os';
import { HostOriginPolicy } from './host-origin-policy';

describe(HostOriginPolicy.name, () => {
  const policy = new HostOriginPolicy({ allowedHosts: ['qwen-pool.lan'], corsOrigins: ['http://localhost', 'app://*'] });

  it.each([
    ['localhost:8080'],
    ['127.0.0.1:8080'],
    ['[::1]:8080'],
    ['192.168.1.20:8080'],
    ['chat.localhost'],
    ['qwen-pool.lan:80'],
    [`${hostname()}:8080`],
  ])('serves Host %s', (host) => {
    expect(policy.refusal(host, undefined)).toBeNull();
  });

  it.each([['evil.example'], ['evil.example:8080'], ['localhost.evil.example'], ['127.0.0.1.nip.io']])('refuses a rebinding Host %s', (host) => {
    expect(policy.refusal(host, undefined)).toMatch(/Host header .* server\.allowedHosts/);
  });

  it('serves any Host when the list says "*", and a request without Host (not a browser)', () => {
    expect(new HostOriginPolicy({ allowedHosts: ['*'], corsOrigins: [] }).refusal('evil.example', undefined)).toBeNull();
    expect(policy.refusal(undefined, undefined)).toBeNull();
  });

  it("accepts the service's own origin (its chat page) and configured origins, refuses others", () => {
    expect(policy.refusal('127.0.0.1:8080', 'http://127.0.0.1:8080')).toBeNull();
    expect(policy.refusal('127.0.0.1:8080', 'http://localhost:3000')).toBeNull();
    expect(policy.refusal('127.0.0.1:8080', 'app://obsidian.md')).toBeNull();
    expect(policy.refusal('127.0.0.1:8080', 'https://evil.example')).toMatch(/web origin "https:\/\/evil\.example" .* server\.corsOrigins/);
    expect(policy.refusal('127.0.0.1:8080', 'http://127.0.0.1:9999')).not.toBeNull();
    expect(policy.refusal('127.0.0.1:8080', 'null')).not.toBeNull();
  });
});
