import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAxclSmi } from './axcl-smi-parser';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'axcl-smi');
const output = (name: string): string => execFileSync(join(FIXTURES, name), { encoding: 'utf8' });

describe(parseAxclSmi.name, () => {
  it('reads a loaded LLM-8850 card, its versions and the runner process', () => {
    const report = parseAxclSmi(output('axcl-smi-ok.sh'));
    expect(report.toolVersion).toBe('V3.6.2_20250603154858');
    expect(report.driverVersion).toBe('V3.6.2_20250603154858');
    expect(report.cards).toEqual([
      {
        index: 0,
        name: 'AX8850',
        firmware: 'V3.6.2',
        busId: '0001:01:00.0',
        temperatureC: 61,
        cpuUsagePercent: 4,
        npuUsagePercent: 37,
        memory: { usedMiB: 183, totalMiB: 945 },
        cmm: { usedMiB: 1642, totalMiB: 7040 },
      },
    ]);
    expect(report.processes).toEqual([{ card: 0, pid: 2841, name: './main_axcl_aarch64', npuMemoryMiB: 1576.4 }]);
  });

  it('reads an idle card with an empty process table', () => {
    const report = parseAxclSmi(output('axcl-smi-idle.sh'));
    expect(report.cards).toHaveLength(1);
    expect(report.cards[0]).toMatchObject({ name: 'AX650N', temperatureC: 81, npuUsagePercent: 0, busId: '0001:11:00.0' });
    expect(report.processes).toEqual([]);
  });

  it('reads two cards and tolerates a different layout, leaving out what it cannot read', () => {
    const text = [
      '| AXCL-SMI  V2.18.0                                   Driver  V2.18.0 |',
      '|    0  AX650N   V2.18.0 | 0001:81:00.0 |   181 MiB /  954 MiB |',
      '|   --   52C     -- / -- | 3%   0% |    22 MiB / 3072 MiB |',
      '|    1  AX650N   V2.18.0 | 0002:81:00.0 |   1.5 GiB / 2 GiB |',
      '|   --   n/a     -- / -- | ? |   garbage |',
    ].join('\r\n');
    const report = parseAxclSmi(text);
    expect(report.toolVersion).toBe('V2.18.0');
    expect(report.cards.map((c) => c.index)).toEqual([0, 1]);
    expect(report.cards[0]).toMatchObject({ temperatureC: 52, cpuUsagePercent: 3, npuUsagePercent: 0, cmm: { usedMiB: 22, totalMiB: 3072 } });
    expect(report.cards[1]).toMatchObject({ memory: { usedMiB: 1536, totalMiB: 2048 }, temperatureC: null, npuUsagePercent: null, cmm: null });
  });

  it('finds nothing in unrelated text without throwing', () => {
    expect(parseAxclSmi('axcl-smi: get device list fail\n| | |\n')).toEqual({ toolVersion: null, driverVersion: null, cards: [], processes: [] });
  });
});
