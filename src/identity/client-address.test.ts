import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientAddresses } from './client-address.js';

describe('client addresses', () => {
  it('groups IPv6 callers by /64 and keeps IPv4 callers apart', () => {
    const none = new ClientAddresses([]);
    const key = (address: string) => none.limitKey(address);
    assert.equal(key(none.resolve('2001:db8:1:2:aaaa::1', {})), key(none.resolve('2001:0db8:0001:0002:ffff:1:2:3', {})));
    assert.notEqual(key(none.resolve('2001:db8:1:2::1', {})), key(none.resolve('2001:db8:1:3::1', {})));
    assert.equal(key(none.resolve('2001:db8:1:2::1', {})), 'ip6:2001:0db8:0001:0002::/64');
    assert.equal(key(none.resolve('::ffff:203.0.113.7', {})), 'ip:203.0.113.7');
    assert.notEqual(key(none.resolve('203.0.113.7', {})), key(none.resolve('203.0.113.8', {})));
  });

  it('groups IPv6 callers by a shorter prefix when configured, a /56 or a /48 per subscriber', () => {
    const by56 = new ClientAddresses([], { ipv6Prefix: 56 });
    assert.equal(by56.limitKey('2001:db8:1:2ff::1'), 'ip6:2001:0db8:0001:0200::/56');
    assert.equal(by56.limitKey('2001:db8:1:200::1'), by56.limitKey('2001:db8:1:2ff:ffff::9'));
    assert.notEqual(by56.limitKey('2001:db8:1:200::1'), by56.limitKey('2001:db8:1:300::1'));
    const by48 = new ClientAddresses([], { ipv6Prefix: 48 });
    assert.equal(by48.limitKey('2001:db8:1:2::1'), 'ip6:2001:0db8:0001::/48');
    assert.equal(by48.limitKey('2001:db8:1:2::1'), by48.limitKey('2001:db8:1:ffff::1'));
    assert.equal(by48.limitKey('203.0.113.7'), 'ip:203.0.113.7');
    assert.throws(() => new ClientAddresses([], { ipv6Prefix: 0 }), /ipv6_prefix/);
  });

  it('reads only the forwarding header the proxies write: the other is the client\'s own', () => {
    const both = { 'x-forwarded-for': '198.51.100.1', forwarded: 'for=198.51.100.2' };
    assert.equal(new ClientAddresses(['10.0.0.0/8']).resolve('10.0.0.2', both), '198.51.100.1');
    assert.equal(new ClientAddresses(['10.0.0.0/8']).resolve('10.0.0.2', { forwarded: 'for=198.51.100.2' }), '10.0.0.2', 'Forwarded is not read by default');
    const rfc7239 = new ClientAddresses(['10.0.0.0/8'], { proxyHeader: 'forwarded' });
    assert.equal(rfc7239.resolve('10.0.0.2', both), '198.51.100.2');
    assert.equal(rfc7239.resolve('10.0.0.2', { 'x-forwarded-for': '198.51.100.1' }), '10.0.0.2', 'X-Forwarded-For is not read then');
  });

  it('ignores forwarding headers from peers that are not trusted proxies', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8']);
    const spoofed = { 'x-forwarded-for': '198.51.100.1', forwarded: 'for=198.51.100.2' };
    assert.equal(addresses.resolve('203.0.113.7', spoofed), '203.0.113.7');
    assert.equal(new ClientAddresses([]).resolve('10.1.2.3', spoofed), '10.1.2.3');
  });

  it('believes a trusted proxy, reading from the right past every trusted hop', () => {
    const addresses = new ClientAddresses(['10.0.0.0/8', '2001:db8:ffff::/48']);
    // The client wrote "1.1.1.1" itself; our proxies appended the real hops.
    assert.equal(addresses.resolve('10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 198.51.100.9, 10.0.0.1' }), '198.51.100.9');
    const rfc7239 = new ClientAddresses(['10.0.0.0/8'], { proxyHeader: 'forwarded' });
    assert.equal(rfc7239.resolve('10.0.0.2', { forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"' }), '2001:db8:cafe::17');
    assert.equal(addresses.resolve('::ffff:10.0.0.2', { 'x-forwarded-for': '198.51.100.9:5555' }), '198.51.100.9');
    // Only trusted hops: the leftmost is the best we know.
    assert.equal(addresses.resolve('10.0.0.2', { 'x-forwarded-for': '10.0.0.5' }), '10.0.0.5');
    // A malformed hop stops the walk at the proxy.
    assert.equal(addresses.resolve('10.0.0.2', { 'x-forwarded-for': 'not-an-ip' }), '10.0.0.2');
    assert.equal(addresses.resolve('10.0.0.2', {}), '10.0.0.2');
  });

  it('refuses a malformed trusted proxy entry', () => {
    assert.throws(() => new ClientAddresses(['proxy.local']), /trusted_proxies/);
    assert.throws(() => new ClientAddresses(['10.0.0.0/33']), /prefix/);
  });
});
