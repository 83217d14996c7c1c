import { BehaviorSubject, filter, Subject } from 'rxjs';
import type { TokenizerClient } from './tokenizer-client';
import { tokenizerStrategy } from './tokenizer-strategy';
import { TokenizerBridge } from './tokenizer-bridge';
import type { TokenizerSupervisor } from './tokenizer-supervisor';
import type { TokenizerProcessMessage, TokenizerSnapshot, TurnProgress } from './tokenizer.contract';
import type { TokenizerModuleOptions } from './tokenizer.options';

function snapshot(patch: Partial<TokenizerSnapshot> = {}): TokenizerSnapshot {
  return { state: 'ready', mode: 'builtin', pid: 42, port: 23456, restarts: 0, lastError: null, source: null, limitations: [], ...patch };
}

function setup(initial: TokenizerSnapshot = snapshot()) {
  const snapshots = new BehaviorSubject(initial);
  const events = new Subject<TokenizerProcessMessage>();
  const supervisor = {
    snapshot: () => snapshots.value,
    snapshots$: snapshots.asObservable(),
    events$: events.asObservable(),
    whenReady: jest.fn(async () => undefined),
    instanceId: () => (snapshots.value.state === 'ready' ? 1 : null),
    strategy: () => tokenizerStrategy(snapshots.value.mode),
  } as unknown as TokenizerSupervisor;
  const client = {
    progress$: events.pipe(filter((event): event is TurnProgress => event.type !== 'ready')),
    registerPrompt: jest.fn(async () => ({ handle: 'qh-x', promptTokens: 5, maxTokens: 10, droppedMessages: 0, expiresAt: 1 })),
    generatedCount: jest.fn(async () => 4),
    release: jest.fn(),
    announceRunner: jest.fn(),
    countUpstreamTokens: jest.fn(async (text: string) => text.length),
  } as unknown as TokenizerClient;
  const options = { tokenizer: { host: '127.0.0.1', port: 23456 } } as TokenizerModuleOptions;
  return { bridge: new TokenizerBridge(options, supervisor, client), snapshots, events, client };
}

describe(TokenizerBridge.name, () => {
  it('gives the runner the URL of the tokenizer it supervises', () => {
    expect(setup().bridge.runnerUrl()).toBe('http://127.0.0.1:23456');
  });

  it('names the runner to the tokenizer process, and again to every new process that becomes ready', () => {
    const { bridge, snapshots, client } = setup();
    expect(client.announceRunner).not.toHaveBeenCalled(); // no runner yet
    bridge.runnerStarted(4242);
    expect(client.announceRunner).toHaveBeenLastCalledWith(4242);
    snapshots.next(snapshot({ state: 'restarting', pid: null }));
    snapshots.next(snapshot({ state: 'ready', pid: 43 }));
    expect(client.announceRunner).toHaveBeenCalledTimes(2);
    expect(client.announceRunner).toHaveBeenLastCalledWith(4242);
    bridge.runnerStarted(null);
    expect(client.announceRunner).toHaveBeenLastCalledWith(null);
    bridge.onModuleDestroy();
  });

  it('names the running instance, and none while no process is ready', () => {
    const { bridge, snapshots } = setup();
    expect(bridge.instanceId()).toBe(1);
    snapshots.next(snapshot({ state: 'restarting', pid: null }));
    expect(bridge.instanceId()).toBeNull();
  });

  it('passes turn progress on, without the process-level ready message', () => {
    const { bridge, events } = setup();
    const seen: TurnProgress[] = [];
    bridge.progress$.subscribe((progress) => seen.push(progress));
    events.next({ type: 'ready', port: 1, source: 'npm-package', tokenizerDir: '/x' });
    events.next({ type: 'turn-start', handle: 'qh-x', promptTokens: 5, printedTextReported: false });
    events.next({ type: 'turn-end', handle: 'qh-x', generatedIds: 4 });
    expect(seen.map((p) => p.type)).toEqual(['turn-start', 'turn-end']);
  });

  it('settles a builtin turn with the ids of the runner final call', async () => {
    const { bridge } = setup();
    await expect(bridge.settle('qh-x', 'ab')).resolves.toEqual({ completionTokens: 4 });
  });

  it('settles an upstream turn by counting the printed text', async () => {
    const { bridge, client } = setup(snapshot({ mode: 'upstream' }));
    await expect(bridge.settle('hello', 'abc')).resolves.toEqual({ completionTokens: 3 });
    expect(client.generatedCount).not.toHaveBeenCalled();
  });

  it('releases a builtin registration with the process, and nothing upstream', () => {
    const builtin = setup();
    builtin.bridge.release('qh-x');
    expect(builtin.client.release).toHaveBeenCalledWith('qh-x');
    const upstream = setup(snapshot({ mode: 'upstream' }));
    upstream.bridge.release('line');
    expect(upstream.client.release).not.toHaveBeenCalled();
  });
});
