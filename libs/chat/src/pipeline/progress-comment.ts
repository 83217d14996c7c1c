import type { ProgressEvent } from './generation-events';

/**
 * The text of a stream's keep-alive comment for a progress event, e.g.
 *   `queued: position 2, 700 prompt tokens, first token in about 75 s`
 *   `prefill: 140/700 prompt tokens fed (estimated), first token in about 40 s`
 * The chat page (libs/ui/static/app.js) shows it while it waits and draws a bar from the first
 * "N/M" of a comment that speaks of prefill/prompt/tokens: only prefill comments carry one.
 */
export function progressComment(event: ProgressEvent): string {
  const eta = event.etaMs === null ? '' : `, first token in about ${Math.max(1, Math.ceil(event.etaMs / 1000))} s`;
  if (event.phase === 'queued') {
    const position = event.position === null ? 'waiting' : `position ${event.position}`;
    const prompt = event.promptTokens === null ? '' : `, ${event.promptTokens} prompt tokens`;
    return `queued: ${position}${prompt}${eta}`;
  }
  const fed = event.promptTokens === null ? 'feeding the prompt' : `${event.fedEstimate ?? 0}/${event.promptTokens} prompt tokens fed (estimated)`;
  return `prefill: ${fed}${eta}`;
}
