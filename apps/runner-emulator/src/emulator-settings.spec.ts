import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultFile, mergeFaults, readEmulatorSettings } from './emulator-settings';

describe('readEmulatorSettings', () => {
  it('has card-like defaults and the prompt rate follows the token rate', () => {
    const s = readEmulatorSettings({ QWEN_EMU_TOKEN_MS: '5' });
    expect(s).toEqual(expect.objectContaining({ loadMs: 20000, tokenMs: 5, promptTokenMs: 5, repeat: 1, failInit: null, eofSpinLimit: 100000 }));
    expect(readEmulatorSettings({})).toEqual(expect.objectContaining({ deviceDeadIdleMs: null, ctrlCStep: 'abandon' }));
    expect(readEmulatorSettings({}).tokenMs).toBe(71);
  });

  it('rejects malformed values', () => {
    expect(() => readEmulatorSettings({ QWEN_EMU_REPEAT: 'lots' })).toThrow('QWEN_EMU_REPEAT');
    expect(() => readEmulatorSettings({ QWEN_EMU_FAIL_INIT: 'card-on-fire' })).toThrow('QWEN_EMU_FAIL_INIT');
    expect(() => readEmulatorSettings({ QWEN_EMU_CTRL_C_STEP: 'sometimes' })).toThrow('QWEN_EMU_CTRL_C_STEP');
  });

  it('reads the init failure kinds (1 keeps meaning a layer that cannot be loaded), the idle death and the Ctrl-C step', () => {
    expect(readEmulatorSettings({ QWEN_EMU_FAIL_INIT: '1' }).failInit).toBe('axmodel');
    expect(readEmulatorSettings({ QWEN_EMU_FAIL_INIT: 'device-permission' }).failInit).toBe('device-permission');
    expect(readEmulatorSettings({ QWEN_EMU_FAIL_INIT: 'no-driver' }).failInit).toBe('no-driver');
    expect(readEmulatorSettings({ QWEN_EMU_FAIL_INIT: '0' }).failInit).toBeNull();
    expect(readEmulatorSettings({ QWEN_EMU_DEVICE_DEAD_IDLE_MS: '2500' }).deviceDeadIdleMs).toBe(2500);
    expect(readEmulatorSettings({ QWEN_EMU_CTRL_C_STEP: 'finish' }).ctrlCStep).toBe('finish');
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
    expect(file.takeFailInit()).toBeNull();
    expect(file.takeDeviceDeadIdleMs()).toBeNull();
    expect(existsSync(path)).toBe(true);
    const oneOff = file.takeForRequest();
    expect(existsSync(path)).toBe(false);
    expect(mergeFaults({ crashAfterTokens: 9, deviceDeadAfterTokens: null, hangAfterTokens: null }, oneOff)).toEqual({
      crashAfterTokens: 9,
      deviceDeadAfterTokens: null,
      hangAfterTokens: 2,
    });
    writeFileSync(path, '{"failInit": true}');
    expect(file.takeFailInit()).toBe('axmodel');
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, '{"failInit": "no-driver"}');
    expect(file.takeFailInit()).toBe('no-driver');
    writeFileSync(path, '{"deviceDeadIdleMs": 0}');
    expect(file.takeForRequest() && file.takeDeviceDeadIdleMs()).toBeNull(); // a request line consumed it first
    writeFileSync(path, '{"deviceDeadIdleMs": 300}');
    expect(file.takeDeviceDeadIdleMs()).toBe(300);
    expect(existsSync(path)).toBe(false);
  });
});
