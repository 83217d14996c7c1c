import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultFile, mergeFaults, readEmulatorSettings } from './emulator-settings';

describe('readEmulatorSettings', () => {
  it('has card-like defaults and the prompt rate follows the token rate', () => {
    const s = readEmulatorSettings({ QWEN_EMU_TOKEN_MS: '5' });
    expect(s).toEqual(expect.objectContaining({ loadMs: 20000, tokenMs: 5, promptTokenMs: 5, repeat: 1, failInit: false, eofSpinLimit: 100000 }));
    expect(readEmulatorSettings({}).tokenMs).toBe(71);
  });

  it('rejects malformed values', () => {
    expect(() => readEmulatorSettings({ QWEN_EMU_REPEAT: 'lots' })).toThrow('QWEN_EMU_REPEAT');
  });
});

describe(FaultFile.name, () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'emu-fault-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is consumed by the next request and overrides the environment for that turn only', () => {
    const path = join(dir, 'fault.json');
    const file = new FaultFile(path);
    expect(file.takeForRequest()).toBeNull();
    writeFileSync(path, '{"hangAfterTokens": 2}');
    expect(file.takeFailInit()).toBe(false);
    expect(existsSync(path)).toBe(true);
    const oneOff = file.takeForRequest();
    expect(existsSync(path)).toBe(false);
    expect(mergeFaults({ crashAfterTokens: 9, deviceDeadAfterTokens: null, hangAfterTokens: null }, oneOff)).toEqual({
      crashAfterTokens: 9,
      deviceDeadAfterTokens: null,
      hangAfterTokens: 2,
    });
    writeFileSync(path, '{"failInit": true}');
    expect(file.takeFailInit()).toBe(true);
    expect(existsSync(path)).toBe(false);
  });
});
