import { TestEnvironment as NodeEnvironment } from 'jest-environment-node';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// `gc` exists only under --expose-gc; set at run time, the flag applies to the contexts made afterwards,
// so it is on just long enough to fetch `gc` from one (the spec files' own contexts do not get it).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

/**
 * Jest's node environment that collects the garbage of each spec file once the file is torn down.
 *
 * A jest worker runs about 45 spec files, each with its own copy of the module graph (Nest, the 7 MB
 * Qwen tokenizer.json parsed again, ...). Left alone, V8 grows the worker's heap instead of collecting,
 * and a worker ended the unit run with 700-900 MB committed although about 100 MB was live. At the end of
 * the run jest asks each worker to exit and force-kills it after 500 ms; Node's exit then spent 1.0-1.2 s
 * unmapping that heap page by page (Isolate::Delete → Heap::TearDown → munmap), so jest killed it and
 * printed "A worker process has failed to exit gracefully" although no handle was left open.
 * Collecting after each file keeps the committed heap near the live one, and the worker exits in ~0.3 s.
 */
export default class CollectingNodeEnvironment extends NodeEnvironment {
  override async teardown(): Promise<void> {
    await super.teardown();
    collectGarbage();
  }
}
