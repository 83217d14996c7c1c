import { Inject, Injectable, Logger } from '@nestjs/common';
import { AppConfig, ConfigError, ConfigStore } from '@qwen/config';
import { ModelService } from '@qwen/model';
import { TokenizerSupervisor } from '@qwen/tokenizer';
import { AdminError } from './admin-error';
import { ADMIN_OPTIONS, AdminModuleOptions } from './admin.options';
import { ApplicationCloser } from './application-closer';
import { ProcessExit } from './process-exit';

/** The 202 body of POST /admin/reload and /admin/shutdown: what will happen, in order. */
export interface AdminAction {
  status: 'reloading' | 'shutting-down';
  force: boolean;
  /** The model state when the request arrived. */
  modelState: string;
  steps: string[];
  /** Where to follow the progress. */
  progress: string;
}

/**
 * POST /admin/reload and /admin/shutdown. Both answer at once (202) and do the work in the
 * background; the model's and tokenizer's states in GET /health show the progress.
 */
@Injectable()
export class AdminService {
  private readonly logger = new Logger(AdminService.name);
  private reloading: Promise<void> | null = null;
  private shuttingDown: Promise<void> | null = null;

  constructor(
    private readonly config: ConfigStore,
    private readonly model: ModelService,
    private readonly tokenizer: TokenizerSupervisor,
    @Inject(ADMIN_OPTIONS) private readonly options: AdminModuleOptions,
    private readonly closer: ApplicationCloser,
    private readonly processExit: ProcessExit,
  ) {}

  /**
   * Reads the configuration again (an invalid file → 400, nothing restarted), then in the
   * background: finish the request in flight (cancel it when force), stop the runner with "q",
   * restart the tokenizer with the new settings, start the runner with the new settings.
   */
  reload(force: boolean): AdminAction {
    if (this.shuttingDown) throw AdminError.conflict('shutting_down', 'the service is shutting down');
    if (this.reloading) throw AdminError.conflict('reload_in_progress', 'a reload is already in progress; follow it in GET /health');
    let config: AppConfig;
    try {
      config = this.config.reload();
    } catch (error) {
      if (error instanceof ConfigError) throw AdminError.badRequest('invalid_config', error.message);
      throw error;
    }
    const modelState = this.model.snapshot().state;
    this.logger.log(`reload requested by an operator${force ? ' (force: the request in flight is cancelled)' : ''}`);
    const options = this.options.reloadOptions(config);
    this.reloading = this.model
      .reload({
        force,
        options: options.model,
        beforeStart: () => this.tokenizer.restart('admin reload', options.tokenizer),
      })
      .then(() => this.logger.log('reload: the tokenizer is back and a new runner is loading the model'))
      .catch((error: unknown) => this.logger.error(`reload failed: ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => (this.reloading = null));
    return {
      status: 'reloading',
      force,
      modelState,
      steps: [
        'configuration re-read and validated',
        force ? 'cancel the request in flight' : 'let the request in flight finish',
        'stop the runner ("q")',
        'restart the tokenizer server with the new settings',
        'start the runner with the new settings (the model loads again: 18-29 s on the card)',
      ],
      progress: 'GET /health (model.state: loading, then ready) or GET /health/ready (200 once ready)',
    };
  }

  /**
   * Stops for good, in the background: refuse new requests, finish (or with force cancel) the one
   * in flight, stop the runner with "q", stop the tokenizer, close the HTTP listeners, exit 0.
   */
  shutdown(force: boolean): AdminAction {
    const modelState = this.model.snapshot().state;
    if (!this.shuttingDown) {
      this.logger.warn(`shutdown requested by an operator${force ? ' (force: the request in flight is cancelled)' : ''}`);
      this.shuttingDown = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.stopEverything(force));
    }
    return {
      status: 'shutting-down',
      force,
      modelState,
      steps: [
        'refuse new requests',
        force ? 'cancel the request in flight' : 'let the request in flight finish',
        'stop the runner ("q")',
        'stop the tokenizer server',
        'close the HTTP listeners',
        'exit with status 0',
      ],
      progress: 'the connection is refused once the service has stopped',
    };
  }

  private async stopEverything(force: boolean): Promise<void> {
    let code = 0;
    try {
      await this.model.shutdown({ force });
      await this.tokenizer.stop();
      this.logger.log('runner and tokenizer stopped; closing the application');
      await this.closer.close();
    } catch (error) {
      code = 1;
      this.logger.error(`shutdown failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.processExit.exit(code);
  }
}
