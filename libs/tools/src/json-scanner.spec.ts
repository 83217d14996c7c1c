import { isObject, scanJsonContainer, skipWhitespace } from './json-scanner';

describe(scanJsonContainer.name, () => {
  it('finds the end of nested containers and ignores brackets in strings', () => {
    expect(scanJsonContainer('x{"a": ["}", {"b": "\\"]"}]} tail', 1)).toEqual({ kind: 'complete', end: 27 });
    expect(scanJsonContainer('[1, [2], 3]', 0)).toEqual({ kind: 'complete', end: 11 });
  });
  it('says incomplete when the text ends inside the value or inside a string', () => {
    expect(scanJsonContainer('{"a": {', 0)).toEqual({ kind: 'incomplete' });
    expect(scanJsonContainer('{"a": "}', 0)).toEqual({ kind: 'incomplete' });
  });
});

describe(skipWhitespace.name, () => {
  it('skips JSON whitespace only', () => {
    expect(skipWhitespace(' \n\t\r x', 0)).toBe(5);
    expect(skipWhitespace('   ', 1)).toBe(3);
    expect(skipWhitespace('\u00a0x', 0)).toBe(0);
  });
});

describe(isObject.name, () => {
  it('accepts plain objects only', () => {
    expect([{}, [], null, 'x', 1].map(isObject)).toEqual([true, false, false, false, false]);
  });
});
