import { ConsoleLogger, LogLevel } from '@nestjs/common';

/** Nest's start-up chatter (one line per module and per route): useful when debugging, noise otherwise. */
const START_UP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * The service's console logger: Nest's format, colour codes only when stdout is a terminal (never in
 * `service.log` or the journal; `NO_COLOR` is honoured too), and Nest's own start-up lines
 * (modules initialised, routes mapped) at `debug` level.
 */
export class ServiceLogger extends ConsoleLogger {
  constructor(logLevels: LogLevel[], output: { isTTY?: boolean } = process.stdout) {
    super({ logLevels, colors: output.isTTY === true && !process.env.NO_COLOR });
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams[optionalParams.length - 1];
    if (typeof context === 'string' && START_UP_CONTEXTS.has(context)) {
      this.debug(message, ...optionalParams);
      return;
    }
    super.log(message, ...optionalParams);
  }
}
