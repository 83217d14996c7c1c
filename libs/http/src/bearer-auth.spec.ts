import { bearerToken, SecretSet } from './bearer-auth';

describe('bearer auth', () => {
  it('parses only a well-formed Bearer header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('Bearer   abc  ')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken('Token abc')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it('compares secrets of any length', () => {
    expect(new SecretSet(['abc']).has('abc')).toBe(true);
    expect(new SecretSet(['abc']).has('abd')).toBe(false);
    expect(new SecretSet(['abcd']).has('abc')).toBe(false);
    expect(new SecretSet(['x']).has('')).toBe(false);
  });

  it('ignores empty secrets and accepts any of several', () => {
    expect(new SecretSet(['', '']).empty).toBe(true);
    const keys = new SecretSet(['k1', 'k2']);
    expect(keys.empty).toBe(false);
    expect(keys.has('k2')).toBe(true);
    expect(keys.has('k3')).toBe(false);
  });
});
