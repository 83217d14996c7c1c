import { IM_END, lastUserMessageIds, planReply } from './reply-planner';

describe('planReply', () => {
  it('answers with the last user message, then eos', () => {
    const ids = [151644, 872, 198, 1, 2, IM_END, 198, 151644, 77091, 198, 3, IM_END, 198, 151644, 872, 198, 4, 5, 6, IM_END, 198, 151644, 77091, 198];
    expect(lastUserMessageIds(ids)).toEqual([4, 5, 6]);
    expect(planReply(ids, IM_END, 2)).toEqual([4, 5, 6, 4, 5, 6, IM_END]);
  });

  it('echoes a raw prompt and copes with an unterminated user message', () => {
    expect(planReply([7, 8], IM_END, 1)).toEqual([7, 8, IM_END]);
    expect(lastUserMessageIds([151644, 872, 198, 9])).toEqual([9]);
  });

  it('gives back the newlines a message starts with, merged by BPE into the template newline', () => {
    // "user\n" + "\n\nhi" tokenizes as user, 1406 (three newlines), hi: the content is 271 (two) + hi.
    expect(lastUserMessageIds([151644, 872, 1406, 6023, IM_END])).toEqual([271, 6023]);
    expect(lastUserMessageIds([151644, 872, 271, 6023, IM_END])).toEqual([198, 6023]);
  });
});
