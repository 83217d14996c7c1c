import { ServiceLogger } from './service-logger';

describe(ServiceLogger.name, () => {
  let written: string[];

  beforeEach(() => {
    written = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
  });

  afterEach(() => jest.restoreAllMocks());

  it('writes no colour codes when stdout is not a terminal, and colours on a terminal', () => {
    new ServiceLogger(['log'], { isTTY: false }).log('model loaded', 'RunnerSupervisor');
    expect(written.join('')).toContain('[RunnerSupervisor] model loaded');
    expect(written.join('')).not.toContain('\u001b[');
    written.length = 0;
    const noColor = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    new ServiceLogger(['log'], { isTTY: true }).log('model loaded', 'RunnerSupervisor');
    if (noColor !== undefined) process.env.NO_COLOR = noColor;
    expect(written.join('')).toContain('\u001b[');
  });

  it("puts Nest's route-mapping and module lines at debug level", () => {
    new ServiceLogger(['log'], { isTTY: false }).log('Mapped {/v1/models, GET} route', 'RouterExplorer');
    expect(written).toEqual([]);
    new ServiceLogger(['log', 'debug'], { isTTY: false }).log('Mapped {/v1/models, GET} route', 'RouterExplorer');
    expect(written.join('')).toMatch(/DEBUG \[RouterExplorer\] Mapped \{\/v1\/models, GET\} route/);
  });
});
