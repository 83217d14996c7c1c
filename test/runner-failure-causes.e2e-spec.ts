/**
 * A runner that cannot use the card says why (issue 13 item 2): the real service, tokenizer process
 * and runner emulator, started with the card's own init failures (QWEN_EMU_FAIL_INIT). lastError,
 * /health and the log quote the card's line with a hint, and the runner is not restarted in a loop.
 * Requires `npm run build`.
 */
import { startTestService, TestService } from '@qwen/testing';

jest.setTimeout(60000);

const CASES = [
  { failInit: 'device-permission', quote: 'Set AXCL device failed{0x80300186}', hint: /ls -l \/dev\/axcl\*.*usermod -aG/ },
  { failInit: 'no-driver', quote: 'axcl init fail, ret = 0x8030010b', hint: /lsmod \| grep -i axcl.*ls \/dev\/axcl\*/ },
] as const;

describe.each(CASES)('a card that fails at init ($failInit)', ({ failInit, quote, hint }) => {
  let service: TestService;

  beforeAll(async () => {
    service = await startTestService({ emulatorEnv: { QWEN_EMU_FAIL_INIT: failInit }, waitReady: false });
  });
  afterAll(() => service?.close());

  it('quotes the card and hints at the fix in lastError and /health, and does not restart', async () => {
    const failed = await service.waitForModel((s) => s.state === 'failed', 'the failed state', 40000);
    expect(failed.lastError).toContain(quote);
    expect(failed.lastError).toMatch(hint);
    expect(failed).toMatchObject({ loads: 1, deviceDead: false });

    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { reasons: string[]; details: { model: { lastError: string } } };
    expect(body.reasons.join(' ')).toContain(quote);
    expect(body.details.model.lastError).toContain(quote);
  });
});
