import { dumpLikeNlohmann } from './post-config';

describe('dumpLikeNlohmann', () => {
  it('sorts keys, indents by 4 and keeps floats as floats', () => {
    expect(dumpLikeNlohmann('{ "b" : 1.0, "a" : [1, {"z": null, "y": "é"}], "c": {} }')).toBe(
      '{\n    "a": [\n        1,\n        {\n            "y": "é",\n            "z": null\n        }\n    ],\n    "b": 1.0,\n    "c": {}\n}',
    );
  });

  it('throws on invalid JSON (the runner aborts)', () => {
    expect(() => dumpLikeNlohmann('{"a": }')).toThrow(SyntaxError);
  });
});
