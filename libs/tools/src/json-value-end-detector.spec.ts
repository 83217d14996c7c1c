import { JsonValueEndDetector } from './json-value-end-detector';

describe(JsonValueEndDetector.name, () => {
  function endsAt(deltas: readonly string[]): Array<number | null> {
    const detector = new JsonValueEndDetector();
    return deltas.map((delta) => detector.push(delta));
  }

  it('finds the close of the pre-filled object in the delta that closes it', () => {
    expect(endsAt(['{', '"a": {"b": [1, 2]}', '}\n\nThat is all.'])).toEqual([null, null, 1]);
  });

  it('ignores brackets and escaped quotes inside strings', () => {
    expect(endsAt(['{"a": "} ] \\" {', '"}'])).toEqual([null, 2]);
    expect(endsAt(['{"a": "\\\\"}x'])).toEqual([11]);
  });

  it('handles arrays, leading whitespace and a top-level string', () => {
    expect(endsAt(['  [1, [2]', '] tail'])).toEqual([null, 1]);
    expect(endsAt(['"a\\"b"rest'])).toEqual([6]);
  });

  it('reports the end once, then stays closed', () => {
    const detector = new JsonValueEndDetector();
    expect(detector.push('{}')).toBe(2);
    expect(detector.closed).toBe(true);
    expect(detector.push('{}')).toBeNull();
  });

  it('never reports an end for a bare number or literal, nor for an unclosed object', () => {
    expect(endsAt(['42', ' ', 'true'])).toEqual([null, null, null]);
    const detector = new JsonValueEndDetector();
    expect(detector.push('{"a": 1')).toBeNull();
    expect(detector.closed).toBe(false);
  });
});
