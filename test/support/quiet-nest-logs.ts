/**
 * Jest set-up of every test file: Nest's logger prints nothing, so the failures the tests provoke on
 * purpose (runner crashes, refused requests, bad input…) do not fill the output with ERROR lines.
 * Specs that assert logs still see them: they spy on Logger.prototype (still called) or write
 * through a logger instance of their own. `QWEN_TEST_LOGS=1 npx jest …` shows them when debugging.
 */
import { Logger } from '@nestjs/common';

if (!process.env.QWEN_TEST_LOGS) Logger.overrideLogger(false);
