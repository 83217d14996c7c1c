import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Clock } from './clock';
import { probeExit, signalProcessGroup, stopGracefully, StoppableProcess } from './graceful-stop';

/** A real child; `detached` makes it a process-group leader. Its first stdout line is returned. */
async function start(script: string, detached: boolean): Promise<{ child: ChildProcess; target: StoppableProcess; firstLine: string }> {
  const child = spawn('sh', ['-c', script], { detached, stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = once(child, 'exit');
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, target: { pid: child.pid!, exited }, firstLine: chunk.toString().trim() };
}

describe(stopGracefully.name, () => {
  const clock = new Clock();

  it('types the quit command first and stops there when the process exits', async () => {
    const written: string[] = [];
    let exit!: () => void;
    const target: StoppableProcess = {
      pid: 2 ** 22 + 12345, // no such process: a signal would fail
      exited: new Promise<void>((resolve) => (exit = resolve)),
      write: (data) => {
        written.push(data);
        exit();
      },
    };
    const escalations: string[] = [];
    const outcome = await stopGracefully(target, { quitCommand: 'q\n', graceMs: 5_000, clock, onEscalate: (s) => escalations.push(s) });
    expect(outcome).toBe('quit');
    expect(written).toEqual(['q\n']);
    expect(escalations).toEqual([]);
  });

  it('sends SIGTERM when there is no quit command, and stops there when it is obeyed', async () => {
    const { child, target } = await start('echo up; sleep 30', true);
    const escalations: string[] = [];
    const outcome = await stopGracefully(target, { graceMs: 5_000, clock, onEscalate: (s) => escalations.push(s) });
    expect(outcome).toBe('SIGTERM');
    expect(escalations).toEqual(['SIGTERM']);
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('escalates to SIGKILL for the whole group when SIGTERM is ignored', async () => {
    const { child, target, firstLine } = await start('trap "" TERM; sleep 30 & echo $!; wait', true);
    const grandchild = Number(firstLine);
    const escalations: string[] = [];
    const outcome = await stopGracefully(target, { graceMs: 300, clock, onEscalate: (s) => escalations.push(s) });
    expect(outcome).toBe('SIGKILL');
    expect(escalations).toEqual(['SIGTERM', 'SIGKILL']);
    expect(child.signalCode).toBe('SIGKILL');
    await probeExit(grandchild, clock, 10).exited; // the group's other member went too
  });

});

describe(`${stopGracefully.name} with its own signal sender`, () => {
  it('signals through the target instead of the pid', async () => {
    const signals: string[] = [];
    let exit!: () => void;
    const target: StoppableProcess = {
      pid: 2 ** 22 + 12345,
      exited: new Promise<void>((resolve) => (exit = resolve)),
      signal: (signal) => {
        signals.push(signal);
        if (signal === 'SIGKILL') exit();
      },
    };
    await expect(stopGracefully(target, { graceMs: 20, clock: new Clock() })).resolves.toBe('SIGKILL');
    expect(signals).toEqual(['SIGTERM', 'SIGKILL']);
  });
});

describe(signalProcessGroup.name, () => {
  it('falls back to the pid when the process leads no group', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const exited = once(child, 'exit');
    expect(signalProcessGroup(child.pid!, 'SIGTERM')).toBe(true);
    await exited;
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('is false when neither a group nor a process has that id', () => {
    expect(signalProcessGroup(2 ** 22 + 12345, 'SIGTERM')).toBe(false);
  });
});

describe(probeExit.name, () => {
  it('resolves once a process that is not awaited as a child is gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const probe = probeExit(child.pid!, new Clock(), 10);
    let gone = false;
    void probe.exited.then(() => (gone = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(gone).toBe(false);
    child.kill('SIGKILL');
    await probe.exited;
    expect(gone).toBe(true);
  });
});
