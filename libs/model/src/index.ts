export * from './model.contract';
export * from './model.module';
export * from './model.options';
export * from './model.service';
export { ReplFramer } from './repl-framer';
export type { FramerEvent, FramerState } from './repl-framer';
export { RunnerProcess } from './runner-process';
export type { RunnerExit, RunnerHandle, RunnerSpawnOptions, RunnerWorkFile } from './runner-process';
export * from './upstream-launch';
