import { QwenTokenizer } from '@qwen/tokenizer-engine';
import { assistantPrefillIds, IM_END, lastUserMessageIds, planReply } from './reply-planner';

const noCodec = (): never => {
  throw new Error('the codec is not needed here');
};

describe('planReply', () => {
  it('answers with the last user message, then eos', () => {
    const ids = [151644, 872, 198, 1, 2, IM_END, 198, 151644, 77091, 198, 3, IM_END, 198, 151644, 872, 198, 4, 5, 6, IM_END, 198, 151644, 77091, 198];
    expect(lastUserMessageIds(ids)).toEqual([4, 5, 6]);
    expect(planReply(ids, IM_END, 2, noCodec)).toEqual([4, 5, 6, 4, 5, 6, IM_END]);
  });

  it('echoes a raw prompt and copes with an unterminated user message', () => {
    expect(planReply([7, 8], IM_END, 1, noCodec)).toEqual([7, 8, IM_END]);
    expect(lastUserMessageIds([151644, 872, 198, 9])).toEqual([9]);
  });

  it('gives back the newlines a message starts with, merged by BPE into the template newline', () => {
    // "user\n" + "\n\nhi" tokenizes as user, 1406 (three newlines), hi: the content is 271 (two) + hi.
    expect(lastUserMessageIds([151644, 872, 1406, 6023, IM_END])).toEqual([271, 6023]);
    expect(lastUserMessageIds([151644, 872, 271, 6023, IM_END])).toEqual([198, 6023]);
  });
});

describe('planReply with a pre-filled assistant turn', () => {
  let tokenizer: QwenTokenizer;
  beforeAll(() => {
    tokenizer = QwenTokenizer.load();
  });
  const prompt = (user: string, prefill: string) =>
    tokenizer.encode(`<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n${user}<|im_end|>\n<|im_start|>assistant\n${prefill}`);
  const answer = (ids: number[]) => tokenizer.decode(ids.slice(0, -1));
  const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

  it('finds the pre-fill: the ids after the open assistant turn, none after a plain generation prompt', () => {
    expect(tokenizer.decode(assistantPrefillIds(prompt('hi', '<tool_call>\n{"name": "')))).toBe('<tool_call>\n{"name": "');
    expect(assistantPrefillIds(prompt('hi', ''))).toEqual([]);
  });

  it('answers the part of the last user message after the pre-filled text (ids line up: no codec needed)', () => {
    expect(answer(planReply(prompt(call, '<tool_call>\n{"name": "'), IM_END, 1, noCodec))).toBe('get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
  });

  it('cuts by text when the pre-fill ends inside a token of the message (`{` against `{"`)', () => {
    expect(answer(planReply(prompt('{"a": 1}', '{'), IM_END, 1, () => tokenizer))).toBe('"a": 1}');
    const named = '<tool_call>\n{"name": "get_weather", "arguments": ';
    expect(answer(planReply(prompt(call, named), IM_END, 1, () => tokenizer))).toBe('{"city": "Paris"}}\n</tool_call>');
  });

  it('answers the whole message when it does not start with the pre-filled text', () => {
    expect(answer(planReply(prompt('Hello there', '{'), IM_END, 1, () => tokenizer))).toBe('Hello there');
  });
});
