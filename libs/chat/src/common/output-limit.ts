/**
 * The largest output limit a request may name (max_tokens, max_completion_tokens, max_output_tokens,
 * num_predict): an upper bound that is clamped to the room left in the window, but still a 32-bit
 * integer, as in OpenAI's API and llama.cpp's `n_predict`. 1e20 is a client bug, answered with a 400.
 */
export const LARGEST_OUTPUT_LIMIT = 2 ** 31 - 1;
