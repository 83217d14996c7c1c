/** Normalises a request's `stop` (OpenAI `stop`, Ollama `options.stop`) for ModelService: an array without empty strings. */
export function stopList(stop: string | string[] | null | undefined): string[] | undefined {
  if (stop === null || stop === undefined) return undefined;
  const list = (typeof stop === 'string' ? [stop] : stop).filter((s) => s.length > 0);
  return list.length ? list : undefined;
}
