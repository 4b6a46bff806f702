import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientAddresses } from './client-address.js';

describe('client addresses', () => {
  it('groups IPv6 callers by /64 and keeps IPv4 callers apart', () => {
    const key = ClientAddresses.limitKey;
    const none = new ClientAddresses([]);
    assert.equal(key(none.resolve('2001:db8:1:2:aaaa::1', {})), key(none.resolve('2001:0db8:0001:0002:ffff:1:2:3', {})));
    assert.notEqual(key(none.resolve('2001:db8:1:2::1', {})), key(none.resolve('2001:db8:1:3::1', {})));
    assert.equal(key(none.resolve('2001:db8:1:2::1', {})), 'ip6:2001:0db8:0001:0002::/64');
    assert.equal(key(none.resolve('::ffff:203.0.113.7', {})), 'ip:203.0.113.7');
    assert.notEqual(key(none.resolve('203.0.113.7', {})), key(none.resolve('203.0.113.8', {})));
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
    assert.equal(addresses.resolve('10.0.0.2', { forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"' }), '2001:db8:cafe::17');
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
