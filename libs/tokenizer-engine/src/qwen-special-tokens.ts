/** Facts of the Qwen2.5 vocabulary and of the upstream tokenizer server (../shared/runner-protocol.md). */
export const QWEN_BOS_ID = -1;
export const QWEN_ENDOFTEXT_ID = 151643;
export const QWEN_IM_START_ID = 151644;
export const QWEN_IM_END_ID = 151645;
export const QWEN_EOS_ID = QWEN_IM_END_ID;
export const QWEN_UPSTREAM_SYSTEM_PROMPT = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';
